// deepnet-bench: training-step throughput of the engine against the in-process cblas_sgemm peak.
//
//   swift run -c release deepnet-bench [--quick] [--filter SUBSTRING] [--steps N]
//   deepnet-bench --only NAME [--steps N]   one config in this process, one machine-readable RESULT line
//   deepnet-bench --list                    the configs, one tab-separated line each (used by
//                                           scripts/bench_vs_torch.py, the side-by-side run against PyTorch)
//   deepnet-bench --info                    engine version, thread counts and the OpenBLAS build, then exit
//
// Every config is a DeepNorm encoder–decoder (shared embeddings, ReLU, dropout 0, label smoothing 0.1, Adam),
// batch 64 sentences × 32 tokens per side. Each config runs in a child process so its peak RSS is its own.
// GFLOP/s counts matrix-multiply FLOPs only (projections, FFN, attention scores and A·V over the full T×T,
// output projection), forward + backward = 3 × forward.
import CBLAS
import DeepNetEngine
import Foundation

struct BenchConfig {
    var name: String, d: Int, ffn: Int, heads: Int, enc: Int, dec: Int, vocab: Int
}
let configs: [BenchConfig] = [
    .init(name: "64-128-2 6L-6L", d: 64, ffn: 128, heads: 2, enc: 6, dec: 6, vocab: 1000),
    .init(name: "64-128-2 18L-18L", d: 64, ffn: 128, heads: 2, enc: 18, dec: 18, vocab: 1000),
    .init(name: "64-128-2 50L-50L", d: 64, ffn: 128, heads: 2, enc: 50, dec: 50, vocab: 1000),
    .init(name: "64-128-2 100L-100L", d: 64, ffn: 128, heads: 2, enc: 100, dec: 100, vocab: 1000),
    .init(name: "128-512-4 6L-6L", d: 128, ffn: 512, heads: 4, enc: 6, dec: 6, vocab: 4000),
    .init(name: "128-512-4 18L-18L", d: 128, ffn: 512, heads: 4, enc: 18, dec: 18, vocab: 4000),
    .init(name: "512-2048-8 6L-6L", d: 512, ffn: 2048, heads: 8, enc: 6, dec: 6, vocab: 8000),
]

let B = 64, S = 32, T = 32

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Process CPU time (user + system, all threads) in seconds.
func cpuTime() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
}

/// Best-of-`reps` square sgemm: (GFLOP per wall second, GFLOP per CPU second). The per-CPU-second figure is
/// what the cores deliver while we hold them; on a loaded machine it is much steadier than the wall figure.
func sgemmPeak(n: Int = 2048, reps: Int = 5) -> (wall: Double, cpu: Double) {
    // The engine pins OpenBLAS to one thread (GEMM.pinBLAS); the peak is measured with OpenBLAS's own threading
    // over as many threads as the engine uses, so "% of peak" compares against both cores.
    ProbeBLAS.withThreads(Parallel.threads) { sgemmPeakUnpinned(n: n, reps: reps) }
}

func sgemmPeakUnpinned(n: Int, reps: Int) -> (wall: Double, cpu: Double) {
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
    var best = Double.infinity, bestCPU = Double.infinity
    for _ in 0..<reps {
        let t0 = now(), c0 = cpuTime()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
        best = min(best, now() - t0); bestCPU = min(bestCPU, max(cpuTime() - c0, 1e-6))
    }
    let flop = 2 * Double(n * n * n) / 1e9
    return (flop / best, flop / bestCPU)
}

/// Forward matmul FLOPs of one batch; ×3 for forward + backward.
func stepFlops(_ c: BenchConfig) -> Double {
    let d = Double(c.d), f = Double(c.ffn), Rs = Double(B * S), Rt = Double(B * T), V = Double(c.vocab)
    let attnEnc = 4 * Double(B) * Double(S * S) * d
    let encLayer = 8 * Rs * d * d + 4 * Rs * d * f + attnEnc
    let decLayer = 8 * Rt * d * d + 4 * Double(B) * Double(T * T) * d      // self-attention
        + 4 * Rt * d * d + 4 * Rs * d * d + 4 * Double(B) * Double(T * S) * d // cross-attention
        + 4 * Rt * d * f
    let forward = Double(c.enc) * encLayer + Double(c.dec) * decLayer + 2 * Rt * d * V
    return 3 * forward
}

func maxRSSMiB() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024
}

/// Timed steps interleaved with in-process sgemm peak measurements, so step and peak see the same machine load.
func runOne(_ bc: BenchConfig, steps: Int) throws -> (tokPerSec: Double, gflops: Double, stepMs: Double, loss: Double,
                                                      peak: Double, cpuGflops: Double, cpuPeak: Double) {
    var c = ModelConfig()
    c.architecture = .encoderDecoder
    c.encoderLayers = bc.enc; c.decoderLayers = bc.dec
    c.embedDim = bc.d; c.ffnDim = bc.ffn; c.heads = bc.heads; c.vocabSize = bc.vocab
    c.shareAllEmbeddings = true; c.activation = .relu
    c.dropout = 0; c.attentionDropout = 0; c.activationDropout = 0; c.labelSmoothing = 0.1
    c.method = "deepnorm"
    let model = try TransformerModel(config: c, seed: 1)
    let trainer = Trainer(model: model, optimizer: OptimizerConfig(kind: .adam, lr: 5e-4, warmupUpdates: 4000), seed: 1)
    var rng = SplitMix64(seed: 42)
    func ids(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(4 + rng.next() % UInt64(bc.vocab - 4)) } }
    let tgt = ids(B * T)
    var prev = tgt
    for b in 0..<B { prev[b * T] = 2; for t in 1..<T { prev[b * T + t] = tgt[b * T + t - 1] } }
    let batch = TokenBatch(batchSize: B, sourceLength: S, targetLength: T, source: ids(B * S), prevOutput: prev, target: tgt)
    _ = try trainer.step(batch)   // warm-up: allocates activations
    var best = Double.infinity, bestCPU = Double.infinity, loss = 0.0
    var peak = 0.0, cpuPeak = 0.0
    for _ in 0..<steps {
        let p = sgemmPeak(n: 1024, reps: 2)
        peak = max(peak, p.wall); cpuPeak = max(cpuPeak, p.cpu)
        let t0 = now(), c0 = cpuTime()
        loss = try trainer.step(batch).loss
        best = min(best, now() - t0); bestCPU = min(bestCPU, cpuTime() - c0)
    }
    let tokens = Double(B * S + B * T)
    return (tokens / best, stepFlops(bc) / best / 1e9, best * 1000, loss, peak, stepFlops(bc) / bestCPU / 1e9, cpuPeak)
}

// MARK: - main

var args = Array(CommandLine.arguments.dropFirst())
func take(_ flag: String) -> String? {
    guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
    let v = args[i + 1]; args.removeSubrange(i...(i + 1)); return v
}
let quick = args.contains("--quick")
let filter = take("--filter")
let only = take("--only")
let stepsArg = take("--steps").flatMap(Int.init)
let peakArg = take("--peak").flatMap(Double.init)

if args.contains("--list") {
    // name, d, ffn, heads, encoder layers, decoder layers, vocab, batch, source length, target length
    for bc in configs {
        print([bc.name, "\(bc.d)", "\(bc.ffn)", "\(bc.heads)", "\(bc.enc)", "\(bc.dec)", "\(bc.vocab)",
               "\(B)", "\(S)", "\(T)"].joined(separator: "\t"))
    }
    exit(0)
}

/// The OpenBLAS build string (version, target core, threading model, max threads).
func openBLASConfig() -> String {
    guard let c = openblas_get_config() else { return "unknown" }
    return String(cString: c)
}

if args.contains("--info") {
    print("engine \(engineNumericsVersion)  engine threads=\(Parallel.threads)  OPENBLAS_NUM_THREADS=\(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "unset")")
    print("OpenBLAS \(openBLASConfig())  (core \(String(cString: openblas_get_corename())))")
    exit(0)
}

if let only, let bc = configs.first(where: { $0.name == only }) {
    // Child mode: one config, machine-readable line.
    let steps = stepsArg ?? (quick ? 2 : 5)
    let r = try runOne(bc, steps: steps)
    print("RESULT\t\(r.tokPerSec)\t\(r.gflops)\t\(r.stepMs)\t\(maxRSSMiB())\t\(r.loss)\t\(r.peak)\t\(r.cpuGflops)\t\(r.cpuPeak)")
    exit(0)
}

let env = ProcessInfo.processInfo.environment
print("deepnet-bench  engine \(engineNumericsVersion)  OPENBLAS_NUM_THREADS=\(env["OPENBLAS_NUM_THREADS"] ?? "unset")  engine threads=\(Parallel.threads)")
print("OpenBLAS \(openBLASConfig())")
let parentPeak = sgemmPeak(n: quick ? 1024 : 2048)
let peak = peakArg ?? parentPeak.wall
print(String(format: "cblas_sgemm peak (%d^3): %.1f GFLOP/s wall, %.1f GFLOP per CPU-second", quick ? 1024 : 2048, peak, parentPeak.cpu))
// %sgemm: step GFLOP/s over the sgemm peak measured inside the same child process (1024^3, interleaved with
// the steps) unless --peak is given. cpu%: the same ratio per CPU-second (step FLOPs / process CPU time),
// which stays meaningful when other jobs share the cores.
// PyTorch on the same configs: `make bench-vs-torch` (scripts/bench_vs_torch.py).
print("config                  tok/s   step ms   GFLOP/s  %sgemm  peak RSS MiB     loss  sgemm GF/s    cpu%")
for bc in configs where filter.map({ bc.name.contains($0) }) ?? true {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    var childArgs = ["--only", bc.name]
    if quick { childArgs.append("--quick") }
    if let s = stepsArg { childArgs += ["--steps", String(s)] }
    p.arguments = childArgs
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let out = String(decoding: data, as: UTF8.self)
    guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix("RESULT") }) else {
        print("\(bc.name): failed (status \(p.terminationStatus)) \(out)")
        continue
    }
    let f = line.split(separator: "\t").dropFirst().compactMap { Double($0) }
    let childPeak = peakArg ?? f[5]
    // `%-20@` does not pad on Linux Foundation: pad the name in Swift.
    print(String(format: "%@ %8.0f   %7.1f   %7.1f   %5.1f%%  %12.0f  %7.3f  %10.1f  %5.1f%%",
                 bc.name.padding(toLength: 20, withPad: " ", startingAt: 0) as NSString, f[0], f[2], f[1], 100 * f[1] / childPeak, f[3], f[4],
                 f[5], 100 * f[6] / f[7]))
}
