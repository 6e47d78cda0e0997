// DeepNetHarness: from an experiment's declaration to its report. Folders follow the flow:
//   Spec/         what an experiment is: the Experiment value, run configuration, paper numbers, the registry
//   Planning/     experiment × profile → resolved runs with identities (Expansion), their cost (CostModel)
//   Data/         a run's data from DeepNetData (RunData) and its fingerprint
//   Execution/    running: the runner and its workers, one run's steps (RunExecutor), memory admission,
//                 provenance, the engine's decoder as a search StepDecoder
//   Instruments/  training-dynamics measurements: landscapes, PCA trajectories, theory bound, scaling-law fit
//   Results/      HDF5 run records, result store, comparisons, generic verdict helpers
//   Report/       Markdown reports and SVG figures
//   Support/      canonical JSON, a lock
import DeepNetEngine
import DeepNetData
