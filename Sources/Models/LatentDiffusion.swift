// Latent diffusion on residuals r[m, t] = z[m, t] − z[c, t]: training batches and loss,
// and the sampling loop shared by every `SequenceGenerator`.

import Foundation
import RandomStreams
import Tensor

/// The diffusion model: a sequence generator, the noise schedule and the latent statistics.
public final class LatentDiffusion {
    public let generator: SequenceGenerator
    public let schedule: NoiseSchedule
    public let statistics: LatentStatistics
    /// Fitted by `ensemblegen calibrate-spread` (nil: not calibrated); `sampledResiduals` applies it.
    public var spreadCalibration: SpreadCalibration?
    /// How its checkpoint stores the weight matrices (`checkpointContents`).
    public var weightPrecision: WeightPrecision = .float32

    public init(generator: SequenceGenerator, statistics: LatentStatistics, spreadCalibration: SpreadCalibration? = nil) {
        precondition(statistics.conditioningForm.count == generator.configuration.conditioningForms,
                     "diffusion: conditioning form \(statistics.conditioningForm) does not fit a network built for \(generator.configuration.conditioningForms)")
        self.generator = generator
        schedule = NoiseSchedule(steps: generator.configuration.diffusionSteps)
        self.statistics = statistics
        self.spreadCalibration = spreadCalibration
    }

    /// Residuals [M, T, D] in latent units from sampled series (`sample`): denormalised and
    /// multiplied by the spread calibration's factors when there is one.
    public func sampledResiduals(_ x: [Float], monthsOfYear: [Int]) -> [Float] {
        let r = statistics.denormalizeResiduals(x, monthsOfYear: monthsOfYear)
        return spreadCalibration?.apply(r) ?? r
    }

    public var configuration: DiffusionConfiguration { generator.configuration }

    /// Fills conditioning window and month indices for block start `start` of one sequence.
    private func fillWindow(_ data: LatentSequences, conditioning series: Int, start: Int, sample: Int, input: inout DenoiserInput) {
        let c = configuration.conditioningWidth, k = configuration.contextMonths, w = configuration.windowMonths
        precondition(data.conditioningWidth == c, "diffusion: conditioning of \(data.conditioningWidth) values per month, the network takes \(c)")
        for j in 0..<w {
            let month = start - k + j
            input.monthsOfYear[sample * w + j] = data.monthIndex(month)
            let target = input.conditioning.pointer + (sample * w + j) * c
            if let row = data.conditioningRow(month, series: series) {
                row.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: c) }
            } else {
                target.update(repeating: 0, count: c)
            }
        }
    }

    private func emptyInput(batch b: Int) -> DenoiserInput {
        let d = configuration.latentDimension, k = configuration.contextMonths
        let l = configuration.blockMonths, w = configuration.windowMonths
        return DenoiserInput(noisy: Tensor(shape: [b, l, d]), conditioning: Tensor(shape: [b, w, configuration.conditioningWidth]),
                             context: Tensor(shape: [b, k, d]), contextMask: Tensor(shape: [b, k]),
                             monthsOfYear: [Int](repeating: 0, count: b * w), timesteps: [Int](repeating: 1, count: b))
    }

    /// The v-prediction loss on `batchSize` random windows of random training pairs
    /// (`LatentSequences.drawPair`): with
    /// probability 0.1 a window starts within the first context months (so the start of a
    /// series, with missing context, is learned too).
    public func loss(_ data: LatentSequences, batchSize: Int, random: inout RandomStream) -> Variable {
        let d = data.dimension, k = configuration.contextMonths, l = configuration.blockMonths
        let T = data.timeCount
        precondition(T >= l + 1, "training series of \(T) months is shorter than a block of \(l)")
        var input = emptyInput(batch: batchSize)
        let target = Tensor(uninitializedShape: [batchSize, l, d])
        for s in 0..<batchSize {
            let pair = data.drawPair(&random)
            let start = random.uniform() < 0.1 ? Int(random.uniform() * Double(min(k, T - l) + 1))
                                                : Int(random.uniform() * Double(T - l + 1))
            let t = 1 + Int(random.uniform() * Double(schedule.steps))
            input.timesteps[s] = min(t, schedule.steps)
            fillWindow(data, conditioning: pair.conditioning, start: start, sample: s, input: &input)
            for j in 0..<k where start - k + j >= 0 {
                input.contextMask[s * k + j] = 1
                for e in 0..<d { input.context[(s * k + j) * d + e] = data.residual(pair, month: start - k + j, dimension: e) }
            }
            for j in 0..<l {
                for e in 0..<d {
                    let (xt, v) = schedule.noised(clean: data.residual(pair, month: start + j, dimension: e),
                                                  noise: Float(random.gaussian()), at: input.timesteps[s])
                    input.noisy[(s * l + j) * d + e] = xt
                    target[(s * l + j) * d + e] = v
                }
            }
        }
        return .weightedMeanSquaredError(generator.predict(input), target, weights: Tensor(shape: [l, d], repeating: 1))
    }

    /// Sampler settings: `steps` reverse steps on an even subsequence of 1…T; η = 0 is
    /// deterministic DDIM, η = 1 ancestral DDPM.
    /// `keptMonths`: months of each block kept before the next window starts (nil: the whole
    /// block). Fewer than the block makes the next window's context come from inside the
    /// previous window rather than from its last months, where a bidirectional network sees
    /// no future and its samples are damped; the months after them are re-generated.
    public struct Sampler: Sendable, Equatable {
        /// The update rule from one noise level to the next.
        public enum Method: String, Codable, Sendable {
            /// DDIM with noise η (η = 1: ancestral DDPM): first order.
            case ddim
            /// DPM-Solver++(2M): second-order multistep solver of the probability-flow ODE
            /// (deterministic; `NoiseSchedule.multistepStep`).
            case dpmSolver2M = "dpm-solver++(2M)"
        }
        public var steps: Int
        public var eta: Double
        public var keptMonths: Int?
        public var method: Method
        public init(steps: Int, eta: Double, keptMonths: Int? = nil, method: Method = .ddim) {
            self.steps = steps; self.eta = eta; self.keptMonths = keptMonths; self.method = method
        }
        public static func ddim(steps: Int = 50, eta: Double = 0, keptMonths: Int? = nil) -> Sampler {
            Sampler(steps: steps, eta: eta, keptMonths: keptMonths)
        }
        public static func ddpm(steps: Int = 1000, keptMonths: Int? = nil) -> Sampler {
            Sampler(steps: steps, eta: 1, keptMonths: keptMonths)
        }
        public static func dpmSolver(steps: Int = 12, keptMonths: Int? = nil) -> Sampler {
            Sampler(steps: steps, eta: 0, keptMonths: keptMonths, method: .dpmSolver2M)
        }
        /// "DDPM ancestral, 1000 steps", "DDIM eta=0.0, 50 steps" or "DPM-Solver++(2M), 12 steps".
        public var text: String {
            switch method {
            case .dpmSolver2M: return "DPM-Solver++(2M), \(steps) steps"
            case .ddim: return eta == 1 ? "DDPM ancestral, \(steps) steps" : "DDIM eta=\(eta), \(steps) steps"
            }
        }

        /// Whether `other` draws the same members (the months kept per window aside).
        public func samples(like other: Sampler) -> Bool { steps == other.steps && eta == other.eta && method == other.method }
    }

    /// The most sequences per network call while sampling. A member's numbers do not depend
    /// on how many are sampled with it (see `sample`), so this only trades memory for speed.
    public static let groupSize = 16

    /// Generates normalised residual series [T, D] for `members`, block by block through the
    /// conditioning series, one network call per block and sampling step for up to
    /// `groupSize` members at a time. Member k's noise comes only from substream k of `seed`,
    /// and its network calls are row-stable (`RowStableProducts`: dense layers sum each row
    /// the same way whatever rows surround it; the other layers work row by row or sequence
    /// by sequence), so its series is the same whichever members, and how many, are sampled
    /// with it. `progress(monthsDone)` is called after each block of each group. Calls that
    /// sample with the same model may share `weights` (its transposed weights are made once).
    public func sample(conditioning data: LatentSequences, members: [Int], seed: UInt64, sampler: Sampler,
                       weights: TransposedWeights = TransposedWeights(), progress: ((Int) -> Void)? = nil) -> [[Float]] {
        RowStableProducts.enabled(weights: weights) {
            stride(from: 0, to: members.count, by: Self.groupSize).flatMap { start in
                sampleGroup(conditioning: data, members: Array(members[start..<min(start + Self.groupSize, members.count)]),
                            seed: seed, sampler: sampler, progress: progress)
            }
        }
    }

    private func sampleGroup(conditioning data: LatentSequences, members: [Int], seed: UInt64, sampler: Sampler,
                             progress: ((Int) -> Void)?) -> [[Float]] {
        let d = data.dimension, k = configuration.contextMonths, l = configuration.blockMonths
        let T = data.timeCount, b = members.count
        let advance = min(sampler.keptMonths ?? l, l)
        precondition(advance >= 1, "kept months \(advance): at least one month of each block must be kept")
        var streams = members.map { RandomStream(seed: seed).substream(UInt64($0)) }
        var series = [[Float]](repeating: [Float](repeating: 0, count: T * d), count: b)
        let timesteps = schedule.samplingTimesteps(sampler.steps)
        GradientRecording.disabled {
            var input = emptyInput(batch: b)
            for start in stride(from: 0, to: T, by: advance) {
                for s in 0..<b {
                    fillWindow(data, conditioning: 0, start: start, sample: s, input: &input)
                    for j in 0..<k {
                        let month = start - k + j
                        input.contextMask[s * k + j] = month >= 0 ? 1 : 0
                        for e in 0..<d { input.context[(s * k + j) * d + e] = month >= 0 ? series[s][month * d + e] : 0 }
                    }
                    for i in 0..<(l * d) { input.noisy[s * l * d + i] = Float(streams[s].gaussian()) }
                }
                let denoise = generator.denoiser(for: input)
                // DPM-Solver++(2M): the previous step's data prediction x̂₀′.
                var previousPrediction = [Float](repeating: 0, count: sampler.method == .dpmSolver2M ? b * l * d : 0)
                for (index, t) in timesteps.enumerated() {
                    let next = index + 1 < timesteps.count ? timesteps[index + 1] : 0
                    input.timesteps = [Int](repeating: t, count: b)
                    let v = denoise(input)
                    switch sampler.method {
                    case .ddim:
                        let step = schedule.reverseStep(from: t, to: next, eta: sampler.eta)
                        for s in 0..<b {
                            for i in (s * l * d)..<((s + 1) * l * d) {
                                let mean = step.a * input.noisy[i] + step.b * v[i]
                                input.noisy[i] = step.sigma > 0 ? mean + step.sigma * Float(streams[s].gaussian()) : mean
                            }
                        }
                    case .dpmSolver2M:
                        let step = schedule.multistepStep(from: t, to: next, previous: index > 0 ? timesteps[index - 1] : nil)
                        let alpha = Float(schedule.alphaBar[t].squareRoot()), sigma = Float((1 - schedule.alphaBar[t]).squareRoot())
                        for i in 0..<(b * l * d) {
                            let prediction = alpha * input.noisy[i] - sigma * v[i]
                            input.noisy[i] = step.a * input.noisy[i] + step.b * v[i] + step.c * previousPrediction[i]
                            previousPrediction[i] = prediction
                        }
                    }
                }
                for s in 0..<b {
                    for j in 0..<l where start + j < T {
                        for e in 0..<d { series[s][(start + j) * d + e] = input.noisy[(s * l + j) * d + e] }
                    }
                }
                progress?(min(start + advance, T))
            }
        }
        return series
    }
}
