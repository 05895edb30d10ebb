import Foundation
import XCTest
import RandomStreams
import Tensor
@testable import Models

/// The spread calibration: ensemble variance, fitted factors, their use in generation and
/// their place in the checkpoint.
final class SpreadCalibrationTests: XCTestCase {
    /// Gaussian series [T, D] per member with standard deviation `sigma[j]` in dimension j
    /// around a mean common to all members (what members sharing a forced response and a
    /// conditioning series look like).
    private func ensemble(members: Int, T: Int, sigma: [Float], common: [Float], random: inout RandomStream) -> [[Float]] {
        (0..<members).map { _ in (0..<(T * sigma.count)).map { common[$0] + sigma[$0 % sigma.count] * Float(random.gaussian()) } }
    }

    /// `ensembleVariance` equals a two-pass reference computed in Double, month by month.
    func testEnsembleVarianceMatchesTwoPassReference() {
        var random = RandomStream(seed: 4)
        let d = 3, T = 7
        let common = (0..<(T * d)).map { _ in Float(random.gaussian()) * 100 }
        let series = ensemble(members: 5, T: T, sigma: [0.5, 1, 3], common: common, random: &random)
        let actual = SpreadCalibration.ensembleVariance(series, dimension: d)
        for j in 0..<d {
            var total = 0.0
            for t in 0..<T {
                let values = series.map { Double($0[t * d + j]) }
                let mean = values.reduce(0, +) / Double(values.count)
                total += values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
            }
            XCTAssertEqual(actual[j], total / Double(T), accuracy: 1e-9 * total, "dimension \(j)")
        }
    }

    /// Generated members with standard deviations 0.5, 1 and 2 against training members with
    /// 1, 1 and 1 (each 20 members × 400 months; the variance estimates have (20 − 1) · 400
    /// degrees of freedom, relative standard error √(2/7600) = 1.6%, so the factor's, from
    /// two of them, is about 1.15%; tolerance 4 standard errors): the factors are 2, 1 and
    /// 0.5, and the calibrated members have the training members' variance exactly.
    func testFactorsEqualiseTheEnsembleVariance() {
        var random = RandomStream(seed: 9)
        let d = 3, T = 400
        let common = (0..<(T * d)).map { _ in Float(random.gaussian()) }
        let generated = ensemble(members: 20, T: T, sigma: [0.5, 1, 2], common: common, random: &random)
        let training = ensemble(members: 20, T: T, sigma: [1, 1, 1], common: common, random: &random)
        let factors = SpreadCalibration.factors(generated: generated, reference: training, dimension: d)
        for (j, expected) in [2.0, 1.0, 0.5].enumerated() {
            XCTAssertEqual(Double(factors[j]), expected, accuracy: 4 * 0.0115 * expected, "dimension \(j)")
        }
        let calibration = SpreadCalibration(scale: factors, samplerSteps: 50, samplerEta: 0, generatedMembers: 20,
                                            referenceMembers: 20, seed: 1)
        let calibrated = generated.map { calibration.apply($0) }
        let after = SpreadCalibration.ensembleVariance(calibrated, dimension: d)
        let target = SpreadCalibration.ensembleVariance(training, dimension: d)
        for j in 0..<d { XCTAssertEqual(after[j], target[j], accuracy: 1e-5 * target[j], "dimension \(j)") }
        // A dimension in which the generated members do not differ keeps factor 1.
        let flat = SpreadCalibration.factors(generated: [[1, 2], [1, 3]], reference: [[0, 0], [1, 1]], dimension: 2)
        XCTAssertEqual(flat[0], 1)
        XCTAssertEqual(flat[1], Float((0.5 / 0.5).squareRoot()))
    }

    /// The factors travel in the checkpoint (written, replaced, read back), multiply what
    /// `sampledResiduals` returns, and a checkpoint whose factors do not fit the network is refused.
    func testCalibrationIsStoredAndApplied() throws {
        var random = RandomStream(seed: 3)
        let d = 4
        let configuration = DiffusionConfiguration(generator: .autoregressive, latentDimension: d, width: 8, layers: 1, heads: 2,
                                                   contextMonths: 2, blockMonths: 1)
        let statistics = LatentStatistics(conditioningMean: [Float](repeating: 0, count: d), conditioningScale: [Float](repeating: 1, count: d),
                                          residualScale: [1, 2, 3, 4])
        let model = LatentDiffusion(generator: makeSequenceGenerator(configuration, random: &random), statistics: statistics)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("calibration-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let contents = try model.checkpointContents(provenance: ["test": "yes"])
        try SafeTensors.write(contents.tensors, metadata: contents.metadata, to: url)
        XCTAssertNil(try LatentDiffusion.load(url.path).model.spreadCalibration)

        let x: [Float] = [1, 1, 1, 1, -1, 0.5, 2, 0]  // 2 months
        XCTAssertEqual(model.sampledResiduals(x, monthsOfYear: [1, 2]), [1, 2, 3, 4, -1, 1, 6, 0])
        for scale: [Float] in [[0.5, 1, 2, 0.9], [1.1, 0.8, 1, 1]] {
            let calibration = SpreadCalibration(scale: scale, samplerSteps: 50, samplerEta: 0, generatedMembers: 32,
                                                referenceMembers: 29, seed: 1)
            try LatentDiffusion.store(calibration, inCheckpoint: url.path)
            let (loaded, provenance) = try LatentDiffusion.load(url.path)
            XCTAssertEqual(loaded.spreadCalibration, calibration)
            XCTAssertEqual(provenance, ["test": "yes"])
            XCTAssertEqual(loaded.statistics, statistics)
            for (p, q) in zip(model.generator.parameters, loaded.generator.parameters) {
                XCTAssertEqual(p.value.values, q.value.values, p.name)
            }
            let expected = zip(model.sampledResiduals(x, monthsOfYear: [1, 2]), scale + scale).map { $0 * $1 }
            XCTAssertEqual(loaded.sampledResiduals(x, monthsOfYear: [1, 2]), expected)
        }
        try LatentDiffusion.store(SpreadCalibration(scale: [1, 1], samplerSteps: 50, samplerEta: 0, generatedMembers: 2,
                                                    referenceMembers: 2, seed: 1), inCheckpoint: url.path)
        XCTAssertThrowsError(try LatentDiffusion.load(url.path)) {
            XCTAssertTrue("\($0)".contains("2 factors for 4 latent dimensions"), "\($0)")
        }
    }
}
