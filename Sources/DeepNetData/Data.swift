// DeepNetData: corpora, BPE, batching, decoding, BLEU.
//
// Layout:
//   Support/       errors, strict UTF-8 / gzip text reading (SHA-256, SplitMix64 and the batch type are
//                  DeepNetBase's, shared with the engine; this module does not depend on the engine)
//   BLEU/          sacreBLEU 2.6.0-exact BLEU (13a / intl / char / none) and fairseq tokenized BLEU
//   Corpus/        parallel-corpus readers + filters, data-set registry, synthetic language pair
//   Tokenization/  reversible pre-tokenizer, subword-nmt compatible BPE, fairseq-style Vocabulary,
//                  preprocessing pipeline with an on-disk token-id cache
//   Batching/      token-budget batcher with length bucketing
//   Decoding/      StepDecoder protocol, greedy and beam search (the engine adapter is DeepNetHarness's)
@_exported import DeepNetBase

/// Version of the data pipeline; part of every cache key and fingerprint so that a change in
/// preprocessing semantics invalidates old caches.
/// 2: one definition per data set (iwslt14-mini holds out 500 groups, tatoeba splits 5 %/5 %, tatoeba-multi
/// renamed tatoeba), masked- and causal-LM batch layouts.
public let deepNetDataVersion = "deepnet-data-2"
