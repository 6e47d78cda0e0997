// DeepNetData: corpora, BPE, batching, decoding, BLEU.
import DeepNetEngine
