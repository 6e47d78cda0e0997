// Optimizers (fairseq Adam, torch AdamW, SGD), the inverse-sqrt schedule, gradient-norm clipping, and the Trainer.
import Foundation

public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
    /// fairseq `--optimizer adam` (fairseq/optim/adam.py): weight decay is DECOUPLED and applied before the update
    /// as p -= wd·lr·p; denom = sqrt(v) + eps (eps outside the bias correction);
    /// p -= lr·sqrt(1-β2^t)/(1-β1^t) · m / denom.
    case adam
    /// torch.optim.AdamW: p *= (1 - lr·wd); p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps).
    case adamw
    /// torch.optim.SGD: g += wd·p (L2); with momentum μ: buf = μ·buf + g; p -= lr·buf.
    case sgd
}

public enum LRSchedule: String, Codable, CaseIterable, Sendable {
    /// fairseq inverse_sqrt: linear warmup from warmupInitLR to lr over warmupUpdates, then lr·sqrt(warmup/step).
    case inverseSqrt = "inverse-sqrt"
    case constant
}

public struct OptimizerConfig: Codable, Hashable, Sendable {
    public var kind: OptimizerKind = .adam
    public var lr: Double = 5e-4
    public var betas: [Double] = [0.9, 0.98]
    public var eps: Double = 1e-8
    public var weightDecay: Double = 0
    public var momentum: Double = 0
    public var warmupUpdates: Int = 4000
    /// fairseq default -1 means "0 if warmup > 0 else lr"; here the default is 0.
    public var warmupInitLR: Double = 0
    /// Max total gradient L2 norm; 0 = no clipping (the norm is still computed and reported).
    public var clipNorm: Double = 0
    public var schedule: LRSchedule = .inverseSqrt
    public init(kind: OptimizerKind = .adam, lr: Double = 5e-4, betas: [Double] = [0.9, 0.98], eps: Double = 1e-8,
                weightDecay: Double = 0, momentum: Double = 0, warmupUpdates: Int = 4000, warmupInitLR: Double = 0,
                clipNorm: Double = 0, schedule: LRSchedule = .inverseSqrt) {
        self.kind = kind; self.lr = lr; self.betas = betas; self.eps = eps; self.weightDecay = weightDecay
        self.momentum = momentum; self.warmupUpdates = warmupUpdates; self.warmupInitLR = warmupInitLR
        self.clipNorm = clipNorm; self.schedule = schedule
    }

    /// Learning rate used for the update that follows `completedUpdates` updates (fairseq calls
    /// `lr_scheduler.step_update(num_updates)` after each update, so update k uses lr(k-1); update 1 uses
    /// warmupInitLR when warming up).
    public func learningRate(afterUpdates n: Int) -> Double {
        switch schedule {
        case .constant: return lr
        case .inverseSqrt:
            if warmupUpdates > 0 && n < warmupUpdates {
                return warmupInitLR + Double(n) * (lr - warmupInitLR) / Double(warmupUpdates)
            }
            let w = Double(max(warmupUpdates, 1))
            return lr * w.squareRoot() / Double(max(n, 1)).squareRoot()
        }
    }
}

public struct StepStats: Sendable {
    public var loss: Double
    public var nllLoss: Double
    public var tokens: Int
    /// Total L2 norm of the gradient before clipping.
    public var gradNorm: Double
    public var lr: Double
    /// 1-based index of the update just applied.
    public var step: Int
}

public final class Trainer {
    public let model: TransformerModel
    public let optimizer: OptimizerConfig
    public let seed: UInt64
    /// First and second moments (Adam/AdamW) or momentum buffer (SGD, in `m`), same layout as parameters.
    /// Read-only outside the engine: `save(to:)` / `restore(from:)` (TrainerState.swift) own the trainer's state.
    public internal(set) var m: [Float]
    public internal(set) var v: [Float]
    public var step: Int { model.updateCount }

    public init(model: TransformerModel, optimizer: OptimizerConfig, seed: UInt64) {
        self.model = model; self.optimizer = optimizer; self.seed = seed
        m = [Float](repeating: 0, count: model.parameters.count)
        v = optimizer.kind == .sgd ? [] : [Float](repeating: 0, count: model.parameters.count)
    }

    /// Dropout seed of update `k`: a function of (trainer seed, k) only, so reruns and resumes are identical.
    public func dropoutSeed(forUpdate k: Int) -> UInt64 { mix64(seed &+ UInt64(k) &* 0x9E37_79B9_7F4A_7C15) }

    /// One update: forward, backward, norm (+clip), optimizer step. Throws NonFiniteError on NaN/Inf.
    public func step(_ batch: TokenBatch) throws -> StepStats {
        let k = model.updateCount + 1
        let stats: LossStats
        do {
            stats = try model.forwardBackward(batch, training: true, dropoutSeed: dropoutSeed(forUpdate: k))
        } catch var e as NonFiniteError {
            e.step = k
            throw e
        }
        let n = model.gradients.count
        // Gradient norm in double, fixed order (deterministic).
        var sq = 0.0
        model.gradients.withUnsafeBufferPointer { g in
            var i = 0
            while i < n {
                let c = min(4096, n - i)
                sq += Double(dot(UnsafeMutablePointer(mutating: g.baseAddress! + i), UnsafeMutablePointer(mutating: g.baseAddress! + i), c))
                i += c
            }
        }
        let norm = sq.squareRoot()
        if !norm.isFinite {
            throw NonFiniteError(step: k, tensor: model.firstNonFiniteGradient() ?? "unknown", what: "gradient")
        }
        let lr = optimizer.learningRate(afterUpdates: model.updateCount)
        // fairseq clip_grad_norm_: coef = min(max_norm / (norm + 1e-6), 1)
        var gscale: Float = 1
        if optimizer.clipNorm > 0 { gscale = Float(min(optimizer.clipNorm / (norm + 1e-6), 1)) }
        apply(lr: lr, gradScale: gscale, t: k)
        model.updateCount = k
        return StepStats(loss: stats.loss, nllLoss: stats.nllLoss, tokens: stats.tokens, gradNorm: norm, lr: lr, step: k)
    }

    func apply(lr: Double, gradScale: Float, t: Int) {
        let n = model.parameters.count
        let b1 = optimizer.betas.count > 0 ? optimizer.betas[0] : 0.9
        let b2 = optimizer.betas.count > 1 ? optimizer.betas[1] : 0.98
        let wd = optimizer.weightDecay, eps = Float(optimizer.eps)
        let kind = optimizer.kind, mom = Float(optimizer.momentum)
        model.parameters.values.withUnsafeMutableBufferPointer { pb in
            model.gradients.withUnsafeMutableBufferPointer { gb in
                m.withUnsafeMutableBufferPointer { mb in
                    v.withUnsafeMutableBufferPointer { vb in
                        let p = pb.baseAddress!, g = gb.baseAddress!, mm = mb.baseAddress!
                        let vv = vb.baseAddress
                        let fb1 = Float(b1), fb2 = Float(b2)
                        switch kind {
                        case .adam:
                            let bc1 = 1 - pow(b1, Double(t)), bc2 = 1 - pow(b2, Double(t))
                            let stepSize = Float(lr * bc2.squareRoot() / bc1)
                            let decay = Float(wd * lr)
                            let vp = vv!
                            // Unwrap and the weight-decay test hoisted out of the loop so it vectorizes.
                            Parallel.forRanges(n, grain: 32768) { r in
                                if decay != 0 {
                                    for i in r {
                                        let gi = g[i] * gradScale
                                        mm[i] = fb1 * mm[i] + (1 - fb1) * gi
                                        vp[i] = fb2 * vp[i] + (1 - fb2) * gi * gi
                                        let denom = vp[i].squareRoot() + eps
                                        p[i] -= decay * p[i]
                                        p[i] -= stepSize * mm[i] / denom
                                    }
                                } else {
                                    for i in r {
                                        let gi = g[i] * gradScale
                                        mm[i] = fb1 * mm[i] + (1 - fb1) * gi
                                        vp[i] = fb2 * vp[i] + (1 - fb2) * gi * gi
                                        let denom = vp[i].squareRoot() + eps
                                        p[i] -= stepSize * mm[i] / denom
                                    }
                                }
                            }
                        case .adamw:
                            let bc1 = Float(1 - pow(b1, Double(t))), bc2s = Float((1 - pow(b2, Double(t))).squareRoot())
                            let flr = Float(lr), decay = Float(1 - lr * wd)
                            Parallel.forRanges(n, grain: 32768) { r in
                                for i in r {
                                    let gi = g[i] * gradScale
                                    p[i] *= decay
                                    mm[i] = fb1 * mm[i] + (1 - fb1) * gi
                                    vv![i] = fb2 * vv![i] + (1 - fb2) * gi * gi
                                    let denom = vv![i].squareRoot() / bc2s + eps
                                    p[i] -= (flr / bc1) * mm[i] / denom
                                }
                            }
                        case .sgd:
                            let flr = Float(lr), fwd = Float(wd)
                            Parallel.forRanges(n, grain: 32768) { r in
                                for i in r {
                                    var gi = g[i] * gradScale + fwd * p[i]
                                    if mom != 0 { mm[i] = (t == 1 ? gi : mom * mm[i] + gi); gi = mm[i] }
                                    p[i] -= flr * gi
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
