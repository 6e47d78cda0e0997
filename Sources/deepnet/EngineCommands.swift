// Engine commands: `deepnet forward-backward`.
import ArgumentParser
import DeepNetEngine
import Foundation
import HDF5Store

let engineCommands: [ParsableCommand.Type] = [ForwardBackwardCommand.self]

/// Exit status of a command refused by the memory admission check (MemoryEstimate / RunAdmission): nothing was
/// allocated or recorded; other errors exit with 1.
let admissionExitCode: Int32 = 3

/// Prints an error as one line on stderr and returns exit code 1 (3 for an admission refusal).
func engineFail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return ExitCode(error is AdmissionError ? admissionExitCode : 1)
}

/// Model-setting flags (the training flags). Every flag is optional: a flag that is not given leaves the
/// checkpoint's value (or the ModelConfig default); a structural flag that contradicts the checkpoint is an error.
struct EngineModelOptions: ParsableArguments {
    @Option(name: .customLong("arch"), help: "encoder-decoder, encoder-only or decoder-only.")
    var arch: String?
    @Option(help: "Encoder layers N.") var encoderLayers: Int?
    @Option(help: "Decoder layers M.") var decoderLayers: Int?
    @Option(help: "Model width d.") var embedDim: Int?
    @Option(help: "FFN inner width.") var ffnDim: Int?
    @Option(help: "Attention heads.") var heads: Int?
    @Option(name: .customLong("vocab"), help: "Vocabulary size.") var vocab: Int?
    @Option(help: "Rows of the learned position table minus pad+1 (fairseq max_source_positions).") var maxPositions: Int?
    @Option(help: "sinusoidal, learned or none.") var positions: String?
    @Option(help: "Residual/normalization method (e.g. post-ln, pre-ln, deepnorm, deepnorm-torchscale).") var method: String?
    @Option(help: "relu or gelu.") var activation: String?
    @Option(help: "Label smoothing epsilon.", transform: finiteDouble) var labelSmoothing: Double?
    @Option(help: "Dropout.", transform: finiteDouble) var dropout: Double?
    @Option(help: "Attention dropout.", transform: finiteDouble) var attentionDropout: Double?
    @Option(help: "Activation dropout.", transform: finiteDouble) var activationDropout: Double?
    @Option(help: "DeepNorm alpha multiplier.", transform: finiteDouble) var alphaMultiplier: Double?
    @Option(help: "DeepNorm beta multiplier.", transform: finiteDouble) var betaMultiplier: Double?
    @Option(help: "Padding token id.") var padIndex: Int?
    @Option(name: .customLong("method-option"), help: "Method option key=value (repeatable).") var methodOption: [String] = []
    @Flag(inversion: .prefixedNo, help: "Share encoder/decoder input and output embeddings.") var shareAllEmbeddings: Bool?
    @Flag(inversion: .prefixedNo, help: "Tie the decoder input and output embeddings.") var shareDecoderInputOutputEmbed: Bool?
    @Flag(inversion: .prefixedNo, help: "Scale token embeddings by sqrt(d).") var scaleEmbedding: Bool?

    /// The flags applied over the defaults, and the snake_case names of the fields that were given.
    func config() throws -> (ModelConfig, Set<String>) {
        typealias K = ModelConfig.CodingKeys   // the names the checkpoint attributes use
        var c = ModelConfig()
        var given = Set<String>()
        func parse<E: Choice>(_ s: String, _ flag: String, _ t: E.Type) throws -> E {
            do { return try E(parsing: s, what: "--\(flag)") } catch { throw ValidationError("\(error)") }
        }
        if let v = arch { c.architecture = try parse(v, "arch", Architecture.self); given.insert(K.architecture.rawValue) }
        if let v = encoderLayers { c.encoderLayers = v; given.insert(K.encoderLayers.rawValue) }
        if let v = decoderLayers { c.decoderLayers = v; given.insert(K.decoderLayers.rawValue) }
        if let v = embedDim { c.embedDim = v; given.insert(K.embedDim.rawValue) }
        if let v = ffnDim { c.ffnDim = v; given.insert(K.ffnDim.rawValue) }
        if let v = heads { c.heads = v; given.insert(K.heads.rawValue) }
        if let v = vocab { c.vocabSize = v; given.insert(K.vocabSize.rawValue) }
        if let v = maxPositions { c.maxPositions = v; given.insert(K.maxPositions.rawValue) }
        if let v = positions { c.positions = try parse(v, "positions", PositionKind.self); given.insert(K.positions.rawValue) }
        if let v = method { c.method = v; given.insert(K.method.rawValue) }
        if let v = activation { c.activation = try parse(v, "activation", Activation.self); given.insert(K.activation.rawValue) }
        if let v = labelSmoothing { c.labelSmoothing = v; given.insert(K.labelSmoothing.rawValue) }
        if let v = dropout { c.dropout = v; given.insert(K.dropout.rawValue) }
        if let v = attentionDropout { c.attentionDropout = v; given.insert(K.attentionDropout.rawValue) }
        if let v = activationDropout { c.activationDropout = v; given.insert(K.activationDropout.rawValue) }
        if let v = alphaMultiplier { c.alphaMultiplier = v; given.insert(K.alphaMultiplier.rawValue) }
        if let v = betaMultiplier { c.betaMultiplier = v; given.insert(K.betaMultiplier.rawValue) }
        if let v = padIndex { c.padIndex = v; given.insert(K.padIndex.rawValue) }
        if let v = shareAllEmbeddings { c.shareAllEmbeddings = v; given.insert(K.shareAllEmbeddings.rawValue) }
        if let v = shareDecoderInputOutputEmbed { c.shareDecoderInputOutputEmbed = v; given.insert(K.shareDecoderInputOutputEmbed.rawValue) }
        if let v = scaleEmbedding { c.scaleEmbedding = v; given.insert(K.scaleEmbedding.rawValue) }
        if !methodOption.isEmpty {
            for kv in methodOption {
                let parts = kv.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let x = Double(parts[1]) else { throw ValidationError("--method-option expects key=number, got '\(kv)'") }
                guard x.isFinite else { throw ValidationError("--method-option \(parts[0]): '\(parts[1])' is not a finite number (NaN and ±Inf are not accepted)") }
                c.methodOptions[parts[0]] = x
            }
            given.insert(K.methodOptions.rawValue)
        }
        return (c, given)
    }
}

struct ForwardBackwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward-backward",
        abstract: "Load a checkpoint, run forward and backward on one token batch, write loss, logits and gradients.",
        discussion: """
        The checkpoint is an HDF5 file with one float32 dataset per parameter, named by its torchscale state_dict
        key (a DeepNet checkpoint or a state_dict saved with h5py). Model settings come from the checkpoint's
        attributes; flags fill in what the checkpoint does not record. Dropout, attention/activation dropout and
        label smoothing flags override the checkpoint; any other flag that contradicts it is an error.

        The batch file holds integer datasets src_tokens [B,S], prev_output_tokens [B,T] and target [B,T], at the
        root or in group 'batch' (decoder-only: no src_tokens; encoder-only: target [B,S]).

        The output (written atomically; nothing is left on error) holds loss, nll_loss (float64, per non-pad
        target token, natural log; loss is label-smoothed as fairseq's label_smoothed_cross_entropy), ntokens,
        logits [B,T,V] and grads/<state_dict key> for every parameter (d loss / d parameter; tied parameters
        once, under their owner's name), with the model settings as attributes.
        """)

    @Option(name: .customLong("checkpoint"), help: "Checkpoint (.h5).") var checkpoint: String
    @Option(name: .customLong("batch"), help: "Token batch (.h5).") var batch: String
    @Option(name: [.customLong("output"), .customShort("o")], help: "Output file (.h5).") var output: String
    @Option(help: "Group of the batch datasets (default: the root if it has 'target', else 'batch').") var batchGroup: String?
    @Flag(help: "Training mode (dropout active, seeded by --dropout-seed). Default: eval mode.") var training = false
    @Option(help: "Dropout seed in training mode.") var dropoutSeed: UInt64 = 0
    @Flag(inversion: .prefixedNo, help: "Reject float datasets in the checkpoint that are not model parameters.") var strict = true
    @OptionGroup var model: EngineModelOptions

    func validate() throws {
        let out = URL(fileURLWithPath: output).standardizedFileURL.path
        if out == URL(fileURLWithPath: checkpoint).standardizedFileURL.path || out == URL(fileURLWithPath: batch).standardizedFileURL.path {
            throw ValidationError("--output must differ from --checkpoint and --batch")
        }
        _ = try model.config()
    }

    func run() throws {
        do {
            let (flags, given) = try model.config()
            let ckURL = URL(fileURLWithPath: checkpoint)
            let ck = try HDF5File.open(ckURL, mode: .readOnly)
            defer { ck.close() }
            let fromFile = try Checkpoint.readConfig(ck, defaults: flags)
            let config = try Checkpoint.resolveConfig(file: fromFile, flags: flags, explicitFlags: given, fileName: ck.displayName)
            try Checkpoint.checkTensors(ck, against: config)   // before the model is allocated
            let bf = try HDF5File.open(URL(fileURLWithPath: batch), mode: .readOnly)
            defer { bf.close() }
            let tokens = try BatchFile.read(bf, config: config, group: batchGroup)
            // The batch is read first so that the admission check covers its activations and logits too.
            try MemoryAdmission.check("forward-backward on \(ck.displayName)", config,
                                      MemoryWorkload(batch: BatchShape(batchSize: tokens.batchSize, sourceLength: tokens.sourceLength, targetLength: tokens.targetLength),
                                                     backward: true, dropout: training, checkpointLoad: true))
            let net = try TransformerModel(config: config, seed: 0)
            let contents = try Checkpoint.load(into: net, from: ck, strict: strict)

            let stats = try net.forwardBackward(tokens, training: training, dropoutSeed: dropoutSeed)
            if let bad = net.firstNonFiniteGradient() {
                throw NonFiniteError(step: net.updateCount, tensor: bad, what: "gradient")
            }
            var attrs: [String: HDF5AttributeValue] = [
                "checkpoint": .string(checkpoint), "batch": .string(batch), "training": .int(training ? 1 : 0),
                "openblas_num_threads": .string(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "unset"),
            ]
            if training { attrs["dropout_seed"] = .int(Int(truncatingIfNeeded: dropoutSeed)) }
            if let s = contents.step { attrs["checkpoint_step"] = .int(s) }
            try ForwardBackwardOutput.write(to: URL(fileURLWithPath: output), model: net, stats: stats, batch: tokens, attributes: attrs)
            print(String(format: "loss %.8f nll_loss %.8f ntokens %d -> %@ (%d gradient tensors)",
                         stats.loss, stats.nllLoss, stats.tokens, output, net.parameters.entries.count))
        } catch let e as ExitCode {
            throw e
        } catch {
            throw engineFail(error)
        }
    }
}
