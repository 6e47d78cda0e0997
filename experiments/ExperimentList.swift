// Experiments: one file per table/figure of the paper. To add an experiment, create `experiments/<Id>.swift`
// declaring `let <id> = Experiment(...)` and append it to `allExperiments` below (the registry rejects duplicate
// ids; HarnessTests checks that every table and figure of the paper has exactly one value).
import DeepNetData
import DeepNetHarness

public let allExperiments: [Experiment] = [
    table1, table2, table3, table4, table5, table6, table7to9, table10, table11,
    fig1, fig2, fig3, fig4, fig5, fig6, fig7, fig8, fig9,
]

/// The registry of all experiments (throws on a duplicate id).
public func experimentRegistry() throws -> ExperimentRegistry { try ExperimentRegistry(allExperiments) }
