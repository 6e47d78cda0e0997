// DeepNetHarness: experiment types, runner, HDF5 results, reports.
import DeepNetEngine
import DeepNetData
