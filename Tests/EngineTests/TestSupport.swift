import XCTest
import DeepNetEngine

/// Deterministic random batches for tests.
func randomBatch(_ c: ModelConfig, batch B: Int, source S: Int, target T: Int, seed: UInt64, padTail: Bool = true) -> TokenBatch {
    var rng = SplitMix64(seed: seed)
    func tok() -> Int32 {
        var t: Int32
        repeat { t = Int32(rng.next() % UInt64(c.vocabSize)) } while Int(t) == c.padIndex
        return t
    }
    var src = [Int32](), prev = [Int32](), tgt = [Int32]()
    let tl = c.architecture == .encoderOnly ? S : T
    for b in 0..<B {
        let sLen = padTail ? max(1, S - b % 3) : S
        let tLen = padTail ? max(1, tl - b % 2) : tl
        for s in 0..<S { src.append(s < sLen ? tok() : Int32(c.padIndex)) }
        if c.architecture == .encoderOnly {
            // masked-LM style: predict some positions only
            for s in 0..<S { tgt.append(s < sLen && (s % 2 == 0) ? tok() : Int32(c.padIndex)) }
        } else {
            var row = [Int32]()
            for t in 0..<T { row.append(t < tLen ? tok() : Int32(c.padIndex)) }
            tgt.append(contentsOf: row)
            prev.append(2)   // BOS-like
            prev.append(contentsOf: row.dropLast())
            for t in 0..<T where row[t] == Int32(c.padIndex) { prev[prev.count - T + t] = Int32(c.padIndex) }
        }
    }
    return TokenBatch(batchSize: B, sourceLength: S, targetLength: c.architecture == .encoderOnly ? S : T,
                      source: c.architecture == .decoderOnly ? [] : src, prevOutput: prev, target: tgt)
}

func tinyConfig(_ method: String, _ arch: Architecture, positions: PositionKind = .sinusoidal) -> ModelConfig {
    var c = ModelConfig()
    c.architecture = arch
    c.encoderLayers = 2; c.decoderLayers = 2
    c.embedDim = 16; c.ffnDim = 24; c.heads = 2; c.vocabSize = 23
    c.method = method
    c.positions = positions
    c.labelSmoothing = 0.1
    c.activation = .gelu
    return c
}

/// Checks model gradients against central differences: (1) directional derivative along a random direction
/// over all parameters; (2) the largest-gradient coordinates of a random subset. Fails the test on mismatch.
func checkModelGradients(_ model: TransformerModel, _ batch: TokenBatch, label: String, file: StaticString = #filePath, line: UInt = #line) throws {
    _ = try model.forwardBackward(batch, training: false, dropoutSeed: 0)
    let g = model.gradients
    let base = model.parameters.values
    var rng = SplitMix64(seed: 99)
    let n = base.count
    // Directional derivative.
    var dir = [Float](repeating: 0, count: n)
    var norm = 0.0
    for i in 0..<n { dir[i] = Float(rng.nextNormal()); norm += Double(dir[i] * dir[i]) }
    let scale = Float(1 / norm.squareRoot())
    var analytic = 0.0
    for i in 0..<n { dir[i] *= scale; analytic += Double(dir[i]) * Double(g[i]) }
    let h: Float = 1e-2
    func lossAt(_ t: Float) throws -> Double {
        var p = base
        for i in 0..<n { p[i] += t * dir[i] }
        model.parameters.values = p
        return try model.forward(batch).loss
    }
    let numeric = (try lossAt(h) - lossAt(-h)) / Double(2 * h)
    model.parameters.values = base
    let err = abs(numeric - analytic)
    if ProcessInfo.processInfo.environment["GRADCHECK_VERBOSE"] != nil { print("GRADCHECK \(label): loss-dir numeric \(numeric) analytic \(analytic) n=\(n)") }
    XCTAssert(err <= 2e-2 * max(abs(numeric), abs(analytic)) + 2e-4,
              "\(label): directional derivative numeric \(numeric) vs analytic \(analytic)", file: file, line: line)
    // Per-coordinate on a random subset: check the 12 largest |g| among 300 random coordinates.
    var idx = (0..<300).map { _ in Int(rng.next() % UInt64(n)) }
    idx.sort { abs(g[$0]) > abs(g[$1]) }
    let hc: Float = 5e-3
    var bad: [String] = []
    for i in idx.prefix(12) where abs(g[i]) > 1e-4 {
        var p = base
        p[i] += hc; model.parameters.values = p
        let lp = try model.forward(batch).loss
        p[i] = base[i] - hc; model.parameters.values = p
        let lm = try model.forward(batch).loss
        let num = (lp - lm) / Double(2 * hc)
        if abs(num - Double(g[i])) > 3e-2 * abs(Double(g[i])) + 3e-4 {
            let name = model.parameters.entries.first { $0.offset <= i && i < $0.offset + $0.count }?.name ?? "?"
            bad.append("\(name)[\(i)]: numeric \(num) analytic \(g[i])")
        }
    }
    model.parameters.values = base
    XCTAssert(bad.isEmpty, "\(label): coordinate mismatches: \(bad.joined(separator: "; "))", file: file, line: line)
}

/// The `deepnet` executable in the same build products directory as this test bundle (CLI tests skip without it,
/// e.g. when only the engine targets were built).
func deepnetExecutable() throws -> URL {
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [products, products.deletingLastPathComponent()] {
        let exe = candidate.appendingPathComponent("deepnet")
        if FileManager.default.isExecutableFile(atPath: exe.path) { return exe }
    }
    throw XCTSkip("deepnet executable not found next to the test bundle (\(products.path))")
}

/// Runs `deepnet args` (in `directory` when given) and returns its exit status and both outputs.
func runDeepnet(_ args: [String], in directory: URL? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = try deepnetExecutable()
    p.arguments = args
    if let directory { p.currentDirectoryURL = directory }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
