import Foundation
import XCTest
import RandomStreams
import Tensor
@testable import Models

final class LatentDiffusionTests: XCTestCase {
    func testCosineScheduleEndpointsAndExactReverseStep() {
        let schedule = NoiseSchedule(steps: 1000)
        XCTAssertEqual(schedule.alphaBar[0], 1)
        XCTAssertLessThan(schedule.alphaBar[1000], 1e-4)
        XCTAssertGreaterThan(schedule.alphaBar[1], 0.999)
        XCTAssertTrue(zip(schedule.alphaBar, schedule.alphaBar.dropFirst()).allSatisfy { $0 > $1 }, "ᾱ decreases")
        XCTAssertEqual(schedule.samplingTimesteps(4), [1000, 750, 500, 250])
        // With the true v, a deterministic step lands exactly on the forward process at s.
        let (x0, noise) = (Float(0.7), Float(-1.3))
        for (t, s) in [(900, 400), (300, 0), (50, 10)] {
            let (xt, v) = schedule.noised(clean: x0, noise: noise, at: t)
            let step = schedule.reverseStep(from: t, to: s, eta: 0)
            let expected = schedule.noised(clean: x0, noise: noise, at: s).xt
            XCTAssertEqual(step.a * xt + step.b * v, expected, accuracy: 1e-5, "t \(t) → s \(s)")
            XCTAssertEqual(step.sigma, 0)
            // DPM-Solver++'s first (first-order) step is the same exponential integrator.
            let first = schedule.multistepStep(from: t, to: s, previous: nil)
            XCTAssertEqual(first.a * xt + first.b * v, expected, accuracy: 1e-5, "DPM-Solver++ t \(t) → s \(s)")
            XCTAssertEqual(first.c, 0)
        }
        XCTAssertGreaterThan(schedule.reverseStep(from: 500, to: 400, eta: 1).sigma, 0)
    }

    /// The exact denoiser for Gaussian data x0 ~ N(μ, s²): E[x0 | x_t] in closed form.
    final class GaussianOracle: SequenceGenerator {
        let configuration: DiffusionConfiguration
        let schedule: NoiseSchedule
        let mu: Float, s: Float
        init(mu: Float, s: Float) {
            configuration = DiffusionConfiguration(generator: .autoregressive, latentDimension: 1, width: 8, layers: 1,
                                                   contextMonths: 1, blockMonths: 1)
            schedule = NoiseSchedule(steps: 1000)
            self.mu = mu
            self.s = s
        }
        var parameters: [Parameter] { [] }
        func predict(_ input: DenoiserInput) -> Variable {
            let out = Tensor(uninitializedShape: input.noisy.shape)
            for i in 0..<out.count {
                let ab = schedule.alphaBar[input.timesteps[i]]
                let a = Float(ab.squareRoot()), sigma = Float((1 - ab).squareRoot()), xt = input.noisy[i]
                let x0 = mu + s * s * a * (xt - a * mu) / (a * a * s * s + sigma * sigma)
                let eps = (xt - a * x0) / sigma
                out[i] = a * eps - sigma * x0
            }
            return Variable(out)
        }
    }

    /// DDIM (η = 0, 50 steps) and ancestral DDPM (1000 steps) with the exact denoiser draw
    /// from the data distribution: mean and standard deviation of 400 members × 24 months
    /// within 4 standard errors (the months of one member are independent here).
    func testSamplersRecoverAGaussianWithTheExactDenoiser() {
        let (mu, s): (Float, Float) = (0.5, 2)
        let oracle = GaussianOracle(mu: mu, s: s)
        let diffusion = LatentDiffusion(generator: oracle, statistics: LatentStatistics(conditioningMean: [0], conditioningScale: [1], residualScale: [1]))
        let data = LatentSequences(residuals: [], conditioning: [Float](repeating: 0, count: 24), monthsOfYear: (0..<24).map { $0 % 12 + 1 }, dimension: 1)
        for sampler in [LatentDiffusion.Sampler.ddim(steps: 50), .ddpm(steps: 1000)] {
            let series = diffusion.sample(conditioning: data, members: Array(0..<400), seed: 9, sampler: sampler).flatMap { $0 }
            let n = Double(series.count)
            let mean = series.reduce(0.0) { $0 + Double($1) } / n
            let sd = (series.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / (n - 1)).squareRoot()
            XCTAssertEqual(mean, Double(mu), accuracy: 4 * Double(s) / n.squareRoot(), "mean, \(sampler)")
            XCTAssertEqual(sd, Double(s), accuracy: 4 * Double(s) / (2 * n).squareRoot(), "standard deviation, \(sampler)")
        }
    }

    /// DPM-Solver++(2M) solves the probability-flow ODE to second order, DDIM (η = 0) to
    /// first. With the exact denoiser for Gaussian data the ODE's solution is known in closed
    /// form — x_T maps to μ + s (x_T − α_T μ)/√(α_T² s² + σ_T²) — so the error of each
    /// sampler is measured directly, on unit-variance data like the normalised residuals:
    /// doubling the steps from 10 to 20 divides DPM-Solver++'s largest error by more than 3
    /// (second order: 4; the first, first-order step across the clipped end of the cosine
    /// schedule keeps it from exactly 4) and DDIM's by 1.5–2.5 (first order: 2), and
    /// DPM-Solver++ at 12 steps is more accurate than DDIM at 50.
    func testDPMSolverIsSecondOrderOnTheProbabilityFlowODE() {
        let (mu, s): (Double, Double) = (0.5, 1)
        let oracle = GaussianOracle(mu: Float(mu), s: Float(s))
        let diffusion = LatentDiffusion(generator: oracle, statistics: LatentStatistics(conditioningMean: [0], conditioningScale: [1], residualScale: [1]))
        let data = LatentSequences(residuals: [], conditioning: [Float](repeating: 0, count: 24), monthsOfYear: (0..<24).map { $0 % 12 + 1 }, dimension: 1)
        let members = Array(0..<8)
        let alphaBar = oracle.schedule.alphaBar[1000]
        func largestError(_ sampler: LatentDiffusion.Sampler) -> Double {
            let series = diffusion.sample(conditioning: data, members: members, seed: 9, sampler: sampler)
            var worst = 0.0
            for (m, x) in zip(members, series) {
                // Blocks of one month: one draw of x_T per month, from the member's stream.
                var stream = RandomStream(seed: 9).substream(UInt64(m))
                for month in 0..<24 {
                    let xT = Double(Float(stream.gaussian()))
                    let exact = mu + s * (xT - alphaBar.squareRoot() * mu) / (alphaBar * s * s + 1 - alphaBar).squareRoot()
                    worst = max(worst, abs(Double(x[month]) - exact))
                }
            }
            return worst
        }
        let dpm10 = largestError(.dpmSolver(steps: 10)), dpm20 = largestError(.dpmSolver(steps: 20))
        let dpm12 = largestError(.dpmSolver(steps: 12))
        let ddim10 = largestError(.ddim(steps: 10)), ddim20 = largestError(.ddim(steps: 20)), ddim50 = largestError(.ddim(steps: 50))
        XCTAssertGreaterThan(dpm10 / dpm20, 3, "second order: \(dpm10) → \(dpm20)")
        XCTAssertLessThan(ddim10 / ddim20, 2.5, "first order: \(ddim10) → \(ddim20)")
        XCTAssertGreaterThan(ddim10 / ddim20, 1.5, "first order: \(ddim10) → \(ddim20)")
        XCTAssertLessThan(dpm12, ddim50, "DPM-Solver++ at 12 steps beats DDIM at 50")
    }

    /// The exact denoiser for windows of a stationary AR(1) series (unit variance,
    /// coefficient ρ): given the last known context month c, the block is Gaussian with
    /// mean ρ^(j+1)·c and covariance ρ^|i−j| − ρ^(i+j+2) (without context: 0 and ρ^|i−j|),
    /// and E[x0 | x_t] follows in closed form.
    final class AutoregressiveSeriesOracle: SequenceGenerator {
        let configuration: DiffusionConfiguration
        let schedule = NoiseSchedule(steps: 1000)
        let rho: Double
        init(rho: Double, contextMonths: Int, blockMonths: Int) {
            configuration = DiffusionConfiguration(generator: .transformer, latentDimension: 1, width: 8, layers: 1,
                                                   contextMonths: contextMonths, blockMonths: blockMonths)
            self.rho = rho
        }
        var parameters: [Parameter] { [] }
        func predict(_ input: DenoiserInput) -> Variable {
            let k = configuration.contextMonths, l = configuration.blockMonths
            let out = Tensor(uninitializedShape: input.noisy.shape)
            for b in 0..<input.batch {
                let known = input.contextMask[b * k + k - 1] == 1
                let c = known ? Double(input.context[b * k + k - 1]) : 0
                let ab = schedule.alphaBar[input.timesteps[b]]
                let a = ab.squareRoot(), sigma = (1 - ab).squareRoot()
                var mean = [Double](repeating: 0, count: l), xt = mean, centred = mean
                var cov = [[Double]](repeating: mean, count: l), system = cov
                for i in 0..<l {
                    mean[i] = known ? pow(rho, Double(i + 1)) * c : 0
                    xt[i] = Double(input.noisy[b * l + i])
                    centred[i] = xt[i] - a * mean[i]
                    for j in 0..<l {
                        let conditional: Double = known ? pow(rho, Double(i + j + 2)) : 0
                        cov[i][j] = pow(rho, Double(abs(i - j))) - conditional
                    }
                }
                // E[x0 | x_t] = m + C a (a² C + σ² I)⁻¹ (x_t − a m)
                for i in 0..<l {
                    for j in 0..<l { system[i][j] = a * a * cov[i][j] + (i == j ? sigma * sigma : 0) }
                }
                let w = solve(system, centred)
                for i in 0..<l {
                    var projected = 0.0
                    for j in 0..<l { projected += cov[i][j] * w[j] }
                    let x0 = mean[i] + a * projected
                    let eps = (xt[i] - a * x0) / sigma
                    out[b * l + i] = Float(a * eps - sigma * x0)
                }
            }
            return Variable(out)
        }
        /// Gaussian elimination with partial pivoting (small symmetric positive definite systems).
        func solve(_ matrix: [[Double]], _ rhs: [Double]) -> [Double] {
            var m = matrix, r = rhs
            let n = r.count
            for col in 0..<n {
                let pivot = (col..<n).max { abs(m[$0][col]) < abs(m[$1][col]) }!
                m.swapAt(col, pivot); r.swapAt(col, pivot)
                for row in (col + 1)..<n {
                    let f = m[row][col] / m[col][col]
                    for j in col..<n { m[row][j] -= f * m[col][j] }
                    r[row] -= f * r[col]
                }
            }
            var x = [Double](repeating: 0, count: n)
            for row in stride(from: n - 1, through: 0, by: -1) {
                var known = 0.0
                for j in (row + 1)..<n { known += m[row][j] * x[j] }
                x[row] = (r[row] - known) / m[row][row]
            }
            return x
        }
    }

    /// Window stitching leaves no seam: with the exact denoiser of an AR(1) series (ρ = 0.8),
    /// 32 series of 480 months generated window by window (2 context + 6 new months,
    /// ancestral sampling with 200 steps) have the same lag-1
    /// autocorrelation across window boundaries as inside windows, and both equal ρ, within
    /// 4 standard errors ((1 − ρ²)/n per estimate). A sampler that handed over the wrong
    /// context month would give ρ² = 0.64 at the seams, one with no context 0. The same
    /// holds when only 4 of the 6 new months are kept before the next window starts.
    func testWindowStitchingHasNoSeam() {
        assertNoSeam(keptMonths: nil)
        assertNoSeam(keptMonths: 4)
    }

    private func assertNoSeam(keptMonths: Int?, file: StaticString = #filePath, line: UInt = #line) {
        let rho = 0.8, l = 6, T = 480, members = 32
        let advance = keptMonths ?? l
        let diffusion = LatentDiffusion(generator: AutoregressiveSeriesOracle(rho: rho, contextMonths: 2, blockMonths: l),
                                        statistics: LatentStatistics(conditioningMean: [0], conditioningScale: [1], residualScale: [1]))
        let data = LatentSequences(residuals: [], conditioning: [Float](repeating: 0, count: T),
                                   monthsOfYear: (0..<T).map { $0 % 12 + 1 }, dimension: 1)
        var monthsDone: [Int] = []
        let series = diffusion.sample(conditioning: data, members: Array(0..<members), seed: 21,
                                      sampler: .ddpm(steps: 200, keptMonths: keptMonths)) { monthsDone.append($0) }
        // One window per `advance` months, so the windows really start where the test puts the seams.
        XCTAssertEqual(Array(monthsDone.prefix(3)), [advance, 2 * advance, 3 * advance], file: file, line: line)
        var seam = (products: 0.0, squares: 0.0, pairs: 0), inside = (products: 0.0, squares: 0.0, pairs: 0)
        for x in series {
            for t in 0..<(T - 1) {
                let product = Double(x[t]) * Double(x[t + 1]), square = Double(x[t]) * Double(x[t])
                if (t + 1) % advance == 0 {
                    seam.products += product; seam.squares += square; seam.pairs += 1
                } else {
                    inside.products += product; inside.squares += square; inside.pairs += 1
                }
            }
        }
        let acrossSeams = seam.products / seam.squares, withinWindows = inside.products / inside.squares
        let seamError = ((1 - rho * rho) / Double(seam.pairs)).squareRoot()
        let insideError = ((1 - rho * rho) / Double(inside.pairs)).squareRoot()
        let label = "kept months \(advance) of \(l)"
        XCTAssertEqual(acrossSeams, withinWindows, accuracy: 4 * (seamError * seamError + insideError * insideError).squareRoot(),
                       "\(label): lag-1 across seams \(acrossSeams), inside windows \(withinWindows)", file: file, line: line)
        XCTAssertEqual(acrossSeams, rho, accuracy: 4 * seamError, label, file: file, line: line)
        XCTAssertEqual(withinWindows, rho, accuracy: 4 * insideError, label, file: file, line: line)
    }

    /// The transformer's neighbour features: month t gets month t ± offset, zero off the window.
    func testShiftedWindowValues() {
        let values = Tensor(shape: [2, 3, 2], values: (1...12).map(Float.init))
        XCTAssertEqual(shifted(values, by: 1).values, [3, 4, 5, 6, 0, 0, 9, 10, 11, 12, 0, 0])
        XCTAssertEqual(shifted(values, by: -1).values, [0, 0, 1, 2, 3, 4, 0, 0, 7, 8, 9, 10])
        XCTAssertEqual(shifted(values, by: 3).values, [Float](repeating: 0, count: 12))
    }

    /// Configurations written before `neighbourMonths` and `conditioningForms` existed read as 0 and 1 (the shipped
    /// checkpoints of earlier versions keep loading); new transformers default to 1.
    func testConfigurationWithoutNeighbourMonthsDecodes() throws {
        let old = #"{"generator":"transformer","latentDimension":4,"width":8,"layers":1,"heads":2,"contextMonths":2,"blockMonths":6,"diffusionSteps":1000}"#
        let decoded = try JSONDecoder().decode(DiffusionConfiguration.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.neighbourMonths, 0)
        XCTAssertEqual(decoded.conditioningForms, 1)
        XCTAssertEqual(decoded.blockMonths, 6)
        let current = DiffusionConfiguration(generator: .transformer, latentDimension: 4)
        XCTAssertEqual(current.neighbourMonths, 1)
        XCTAssertEqual(try JSONDecoder().decode(DiffusionConfiguration.self, from: JSONEncoder().encode(current)), current)
    }

    /// The per-block denoiser (the autoregressive one splits its input layer and shares the
    /// timestep embedding) equals `predict` for any noisy values and timesteps of the block,
    /// with one or two conditioning forms.
    func testBlockDenoiserEqualsPredict() {
        for kind in GeneratorKind.allCases {
          for forms in [1, 2] {
            var random = RandomStream(seed: 12)
            let d = 6, k = 2, l = kind == .autoregressive ? 1 : 4, b = 3
            let configuration = DiffusionConfiguration(generator: kind, latentDimension: d, width: 16, layers: 2, heads: 2,
                                                       contextMonths: k, blockMonths: l, conditioningForms: forms)
            let generator = makeSequenceGenerator(configuration, random: &random)
            var input = DenoiserInput(noisy: Tensor(gaussianShape: [b, l, d], random: &random),
                                      conditioning: Tensor(gaussianShape: [b, k + l, forms * d], random: &random),
                                      context: Tensor(gaussianShape: [b, k, d], random: &random),
                                      contextMask: Tensor(shape: [b, k], values: [0, 1, 1, 1, 1, 1]),
                                      monthsOfYear: (0..<(b * (k + l))).map { $0 % 12 }, timesteps: [700, 700, 700])
            let denoise = GradientRecording.disabled { generator.denoiser(for: input) }
            for timesteps in [[700, 700, 700], [20, 20, 20], [5, 400, 999]] {
                input.noisy = Tensor(gaussianShape: [b, l, d], random: &random)
                input.timesteps = timesteps
                let expected = GradientRecording.disabled { generator.predict(input).value.values }
                let actual = denoise(input).values
                for (e, a) in zip(expected, actual) {
                    XCTAssertEqual(a, e, accuracy: 1e-5 * max(1, abs(e)), "\(kind), \(forms) form(s), timesteps \(timesteps)")
                }
            }
          }
        }
    }

    /// Member k's series does not depend on the other members sampled with it, bit for bit.
    func testMemberSeriesIndependentOfBatch() {
        for kind in GeneratorKind.allCases {
            var random = RandomStream(seed: 3)
            let configuration = DiffusionConfiguration(generator: kind, latentDimension: 6, width: 16, layers: 1, heads: 2,
                                                       contextMonths: 2, blockMonths: kind == .autoregressive ? 1 : 4)
            let generator = makeSequenceGenerator(configuration, random: &random)
            let diffusion = LatentDiffusion(generator: generator, statistics: LatentStatistics(
                conditioningMean: .init(repeating: 0, count: 6), conditioningScale: .init(repeating: 1, count: 6),
                residualScale: .init(repeating: 1, count: 6)))
            let data = LatentSequences(residuals: [], conditioning: Tensor(gaussianShape: [15 * 6], random: &random).values,
                                       monthsOfYear: (0..<15).map { $0 % 12 + 1 }, dimension: 6)
            let together = diffusion.sample(conditioning: data, members: [0, 1, 2], seed: 4, sampler: .ddim(steps: 3, eta: 0.5))
            let alone = diffusion.sample(conditioning: data, members: [2], seed: 4, sampler: .ddim(steps: 3, eta: 0.5))
            XCTAssertEqual(together[2].map(\.bitPattern), alone[0].map(\.bitPattern), "\(kind)")
            XCTAssertNotEqual(together[0], together[1], "members differ (\(kind))")
            // A range that starts off a multiple of the group size (as `--first-member` gives) and
            // spans two calls, against each member alone and second of two: its rows sit at other
            // places in calls of other sizes.
            for sampler in [LatentDiffusion.Sampler.ddim(steps: 3, eta: 0.5), .dpmSolver(steps: 3)] {
                let range = diffusion.sample(conditioning: data, members: Array(5..<25), seed: 4, sampler: sampler)
                for member in [5, 12, 13, 22] {
                    let single = diffusion.sample(conditioning: data, members: [member], seed: 4, sampler: sampler)
                    let pair = diffusion.sample(conditioning: data, members: [40, member], seed: 4, sampler: sampler)
                    XCTAssertEqual(range[member - 5].map(\.bitPattern), single[0].map(\.bitPattern), "\(kind), member \(member), \(sampler.text)")
                    XCTAssertEqual(pair[1].map(\.bitPattern), single[0].map(\.bitPattern), "\(kind), member \(member), \(sampler.text)")
                }
            }
        }
    }

    /// Both generators learn: the v-prediction loss of a tiny network falls on a small dataset
    /// whose residuals follow the conditioning (r = 0.8 z_c + noise), and gradients are finite.
    func testGeneratorsReduceTheTrainingLoss() throws {
        for kind in GeneratorKind.allCases {
            var random = RandomStream(seed: 5)
            let d = 4, T = 48
            let conditioning = Tensor(gaussianShape: [T * d], random: &random).values
            let residuals = (0..<3).flatMap { _ in conditioning.map { 0.8 * $0 + 0.3 * Float(random.gaussian()) } }
            let data = LatentSequences(residuals: residuals, conditioning: conditioning, monthsOfYear: (0..<T).map { $0 % 12 + 1 }, dimension: d)
            let generator = makeSequenceGenerator(DiffusionConfiguration(generator: kind, latentDimension: d, width: 32, layers: 2, heads: 2,
                                                                         contextMonths: 2, blockMonths: kind == .autoregressive ? 1 : 6), random: &random)
            let diffusion = LatentDiffusion(generator: generator, statistics: try LatentStatistics.fit(conditioning: conditioning, residuals: residuals,
                                                                                                      monthsOfYear: data.monthsOfYear, dimension: d))
            let optimizer = AdamW(parameters: generator.parameters, learningRate: 2e-3, weightDecay: 0)
            func evaluate() -> Float {
                var fixed = RandomStream(seed: 77)
                return GradientRecording.disabled { diffusion.loss(data, batchSize: 256, random: &fixed).value[0] }
            }
            let before = evaluate()
            for step in 0..<150 {
                var batchRandom = RandomStream(seed: 6).substream(UInt64(step))
                generator.zeroGradients()
                diffusion.loss(data, batchSize: 32, random: &batchRandom).backward()
                XCTAssertTrue(generator.parameters.allSatisfy { $0.gradient.values.allSatisfy(\.isFinite) })
                optimizer.update()
            }
            let after = evaluate()
            XCTAssertLessThan(after, 0.7 * before, "\(kind): loss \(before) → \(after)")
        }
    }
}
