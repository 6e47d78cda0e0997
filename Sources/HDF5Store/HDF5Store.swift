// HDF5Store: the one Swift wrapper over the HDF5 C library (checkpoints, batches, run results).
import CHDF5
