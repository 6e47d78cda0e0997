// DeepNetEngine: kernels, model, methods, optimizer, checkpoints.
import CBLAS
