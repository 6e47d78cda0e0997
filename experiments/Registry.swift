// Experiments: one file per table/figure of the paper.
import DeepNetHarness
