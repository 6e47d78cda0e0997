import ArgumentParser

/// The one `deepnet` command tree. Each module's commands live in their own file
/// (EngineCommands.swift, DataCommands.swift, HarnessCommands.swift) and are listed here.
@main
struct DeepNetCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deepnet",
        abstract: "Reproduction harness for \"DeepNet: Scaling Transformers to 1,000 Layers\".",
        subcommands: harnessCommands + engineCommands + dataCommands
    )
}
