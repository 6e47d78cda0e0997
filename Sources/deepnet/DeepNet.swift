import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// The one `deepnet` command tree. Each module's commands live in their own file
/// (EngineCommands.swift, DataCommands.swift, HarnessCommands.swift, ModelCommands.swift) and are listed here.
@main
struct DeepNetCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deepnet",
        abstract: "Reproduction harness for \"DeepNet: Scaling Transformers to 1,000 Layers\".",
        subcommands: harnessCommands + engineCommands + modelCommands + dataCommands
    )

    static func main() {
        // Past a file-size limit (`ulimit -f`) the kernel sends SIGXFSZ, whose default action kills the process
        // silently, leaving the temporary file behind. Ignored, the write fails with EFBIG instead and the atomic
        // writers report it naming the target file, remove the temporary file and exit 1.
        signal(SIGXFSZ, SIG_IGN)
        main(nil)
    }
}
