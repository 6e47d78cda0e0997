// DeepNetData: corpora, BPE, batching, decoding, BLEU.
//
// Layout:
//   Support/       errors, SHA-256, SplitMix64, strict UTF-8 / gzip text reading
//   BLEU/          sacreBLEU 2.6.0-exact BLEU (13a / intl / char / none) and fairseq tokenized BLEU
//   Corpus/        parallel-corpus readers + filters, data-set registry, synthetic language pair
//   Tokenization/  reversible pre-tokenizer, subword-nmt compatible BPE, fairseq-style Vocabulary,
//                  preprocessing pipeline with an on-disk token-id cache
//   Batching/      token-budget batcher with length bucketing
//   Decoding/      StepDecoder protocol, greedy and beam search
import DeepNetEngine

/// Version of the data pipeline; part of every cache key and fingerprint so that a change in
/// preprocessing semantics invalidates old caches.
public let deepNetDataVersion = "deepnet-data-1"
