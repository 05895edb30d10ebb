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

    /// Member k's series does not depend on the other members sampled with it.
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
            let diffusion = LatentDiffusion(generator: generator, statistics: try LatentStatistics.fit(conditioning: conditioning, residuals: residuals, dimension: d))
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

    /// Innovations of an AR(2) series per dimension (one white, one AR(1), one oscillatory
    /// AR(2); 4 members × 2000 months): the fitted filter's order-2 predictor recovers the
    /// coefficients (standard error ≈ √((1 − φ₂²)/8000) ≤ 0.011; tolerance 0.04), the
    /// normalised innovations have unit RMS and no lag-1 or lag-2 correlation (standard error
    /// 0.011; tolerance 0.04), and `denormalizeResiduals` inverts `normalizeResiduals`;
    /// statistics saved before the option existed decode as plain residuals.
    func testInnovationsWhitenAndInvert() throws {
        let phi: [[Float]] = [[0, 0], [0.9, 0], [1.2, -0.5]], d = 3, T = 2000, members = 4
        var random = RandomStream(seed: 21)
        var residuals = [Float](repeating: 0, count: members * T * d)
        for m in 0..<members {
            // 200 months of spin-up so that every member starts stationary.
            var state = [[Float]](repeating: [0, 0], count: d)
            for t in -200..<T {
                for j in 0..<d {
                    let value = phi[j][0] * state[j][0] + phi[j][1] * state[j][1] + Float(random.gaussian()) * 2
                    state[j] = [value, state[j][0]]
                    if t >= 0 { residuals[(m * T + t) * d + j] = value }
                }
            }
        }
        let conditioning = Tensor(gaussianShape: [T * d], random: &random).values
        let statistics = try LatentStatistics.fit(conditioning: conditioning, residuals: residuals, dimension: d, innovationOrder: 2)
        XCTAssertEqual(statistics.innovationOrder, 2)
        let filter = try XCTUnwrap(InnovationFilter(statistics))
        for j in 0..<d {
            for i in 0..<2 { XCTAssertEqual(filter.coefficients[j][2][i], Double(phi[j][i]), accuracy: 0.04, "dimension \(j), lag \(i + 1)") }
        }
        let e = statistics.normalizeResiduals(residuals, timeCount: T)
        for j in 0..<d {
            var square = 0.0, lagged = [0.0, 0.0]
            for m in 0..<members {
                for t in 0..<T {
                    let i = (m * T + t) * d + j
                    square += Double(e[i] * e[i])
                    for lag in 1...2 where t >= lag { lagged[lag - 1] += Double(e[i] * e[i - lag * d]) }
                }
            }
            XCTAssertEqual(square / Double(members * T), 1, accuracy: 1e-3, "dimension \(j)")
            for lag in 0..<2 { XCTAssertEqual(lagged[lag] / square, 0, accuracy: 0.04, "dimension \(j), lag \(lag + 1)") }
        }
        let back = statistics.denormalizeResiduals(e, timeCount: T)
        for (x, y) in zip(back, residuals) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(y))) }

        let old = #"{"conditioningMean":[0],"conditioningScale":[1],"residualScale":[2]}"#
        let decoded = try JSONDecoder().decode(LatentStatistics.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.innovationOrder, 0)
        XCTAssertEqual(decoded.denormalizeResiduals([1, 2], timeCount: 2), [2, 4])
    }

    /// Whitening across dimensions (4 dimensions mixed from independent sources, so their
    /// covariance is far from diagonal, plus one dimension without variance): what the
    /// model sees has identity covariance on the training data itself (exact up to
    /// rounding, tolerance 10⁻³) — on its own and after the innovation filter — the
    /// constant dimension is neither amplified nor lost, `denormalizeResiduals` inverts
    /// `normalizeResiduals`, the statistics survive JSON, and statistics saved before the
    /// option existed are not whitened.
    func testWhiteningDecorrelatesAndInverts() throws {
        let d = 5, T = 600, members = 3
        let mixing: [[Float]] = [[1, 0, 0, 0], [0.9, 0.3, 0, 0], [-0.5, 0.5, 0.7, 0], [0.2, 0.2, 0.2, 2]]
        var random = RandomStream(seed: 33)
        var residuals = [Float](repeating: 0, count: members * T * d)
        for row in 0..<(members * T) {
            let sources = (0..<4).map { _ in Float(random.gaussian()) }
            for j in 0..<4 { residuals[row * d + j] = zip(mixing[j], sources).map(*).reduce(0, +) * 3 }
            residuals[row * d + 4] = 0
        }
        let conditioning = Tensor(gaussianShape: [T * d], random: &random).values
        for order in [0, 3] {
            let statistics = try LatentStatistics.fit(conditioning: conditioning, residuals: residuals, dimension: d,
                                                      innovationOrder: order, whitened: true)
            XCTAssertTrue(statistics.isWhitened)
            let x = statistics.normalizeResiduals(residuals, timeCount: T)
            for i in 0..<d {
                for j in 0..<d {
                    var sum = 0.0
                    for row in 0..<(members * T) { sum += Double(x[row * d + i]) * Double(x[row * d + j]) }
                    let expected: Double = i == j && i < 4 ? 1 : 0
                    XCTAssertEqual(sum / Double(members * T), expected, accuracy: 1e-3, "order \(order), covariance (\(i), \(j))")
                }
            }
            let back = statistics.denormalizeResiduals(x, timeCount: T)
            for (a, b) in zip(back, residuals) { XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, abs(b)), "order \(order)") }
            let decoded = try JSONDecoder().decode(LatentStatistics.self, from: JSONEncoder().encode(statistics))
            XCTAssertEqual(decoded, statistics)
        }
        let old = #"{"conditioningMean":[0],"conditioningScale":[1],"residualScale":[2]}"#
        XCTAssertFalse(try JSONDecoder().decode(LatentStatistics.self, from: Data(old.utf8)).isWhitened)
    }

    /// Filtered conditioning: z_c goes through the residuals' filter, scaling and whitening
    /// after its mean is removed, so for members z_m = f + u_m around a common forced part f
    /// the modelled residual of member m is exactly (what the model sees of u_m) − (what it
    /// is given of z_c), up to the filtered forced part (zero here); the unfiltered form and
    /// statistics saved before the option stay as they were.
    func testFilteredConditioningIsInTheModelsCoordinates() throws {
        let d = 3, T = 500, members = 3
        var random = RandomStream(seed: 41)
        // AR(1) variability per dimension, common mean 2 (the forced part, constant here).
        func series() -> [Float] {
            var x = [Float](repeating: 0, count: T * d), state = [Float](repeating: 0, count: d)
            for t in 0..<T { for j in 0..<d { state[j] = 0.8 * state[j] + Float(random.gaussian()); x[t * d + j] = 2 + state[j] } }
            return x
        }
        let zc = series(), others = (0..<members).map { _ in series() }
        let residuals = others.flatMap { z in zip(z, zc).map { $0 - $1 } }
        let plain = try LatentStatistics.fit(conditioning: zc, residuals: residuals, dimension: d, innovationOrder: 2, whitened: true)
        let filtered = try LatentStatistics.fit(conditioning: zc, residuals: residuals, dimension: d, innovationOrder: 2,
                                                whitened: true, conditioningForm: .filtered)
        XCTAssertEqual(plain.conditioningForm, .level)
        XCTAssertEqual(filtered.conditioningForm, .filtered)
        let given = filtered.normalizeConditioning(zc)
        let centred = zc.enumerated().map { $0.element - filtered.conditioningMean[$0.offset % d] }
        XCTAssertEqual(given, filtered.normalizeResiduals(centred, timeCount: T))
        // The chain is linear, so with the same mean removed from a member it splits exactly.
        let modelled = filtered.normalizeResiduals(residuals, timeCount: T)
        for m in 0..<members {
            let member = filtered.normalizeConditioning(others[m])
            for i in 0..<(T * d) {
                XCTAssertEqual(modelled[m * T * d + i], member[i] - given[i], accuracy: 1e-3, "member \(m), value \(i)")
            }
        }
        let level = plain.normalizeConditioning(zc)
        XCTAssertEqual(level, zc.enumerated().map {
            ($0.element - plain.conditioningMean[$0.offset % d]) / plain.conditioningScale[$0.offset % d]
        })
        // Both forms: each month's level, then its filtered values.
        var both = filtered
        both.conditioningForm = .both
        let pairs = both.normalizeConditioning(zc)
        XCTAssertEqual(pairs.count, 2 * T * d)
        for t in 0..<T {
            XCTAssertEqual(Array(pairs[(2 * t * d)..<((2 * t + 1) * d)]), Array(level[(t * d)..<((t + 1) * d)]), "month \(t) level")
            XCTAssertEqual(Array(pairs[((2 * t + 1) * d)..<((2 * t + 2) * d)]), Array(given[(t * d)..<((t + 1) * d)]), "month \(t) filtered")
        }
        for statistics in [plain, filtered, both] {
            XCTAssertEqual(try JSONDecoder().decode(LatentStatistics.self, from: JSONEncoder().encode(statistics)), statistics)
        }
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("conditioningForm"))
        let old = #"{"conditioningMean":[0],"conditioningScale":[2],"residualScale":[1]}"#
        let decoded = try JSONDecoder().decode(LatentStatistics.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.conditioningForm, .level)
        XCTAssertEqual(decoded.normalizeConditioning([4]), [2])
        let legacy = #"{"conditioningMean":[0],"conditioningScale":[2],"residualScale":[1],"filteredConditioning":true}"#
        XCTAssertEqual(try JSONDecoder().decode(LatentStatistics.self, from: Data(legacy.utf8)).conditioningForm, .filtered)
    }
}
