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
    func testGeneratorsReduceTheTrainingLoss() {
        for kind in GeneratorKind.allCases {
            var random = RandomStream(seed: 5)
            let d = 4, T = 48
            let conditioning = Tensor(gaussianShape: [T * d], random: &random).values
            let residuals = (0..<3).flatMap { _ in conditioning.map { 0.8 * $0 + 0.3 * Float(random.gaussian()) } }
            let data = LatentSequences(residuals: residuals, conditioning: conditioning, monthsOfYear: (0..<T).map { $0 % 12 + 1 }, dimension: d)
            let generator = makeSequenceGenerator(DiffusionConfiguration(generator: kind, latentDimension: d, width: 32, layers: 2, heads: 2,
                                                                         contextMonths: 2, blockMonths: kind == .autoregressive ? 1 : 6), random: &random)
            let diffusion = LatentDiffusion(generator: generator, statistics: LatentStatistics.fit(conditioning: conditioning, residuals: residuals, dimension: d))
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

