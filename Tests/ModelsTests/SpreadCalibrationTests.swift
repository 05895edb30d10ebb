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

    /// One update on a 4 × 6 grid under a 2 × 3 × 2 latent grid (each location covers 2 × 2
    /// cells), with a decoder whose variance at a cell is the square of its location's factor
    /// times a base variance: the area-weighted variance over each location's cells then equals
    /// the target's after one update; both channels of a location get the same factor, and a
    /// location without generated variance keeps its own.
    func testUpdatedFactorsMatchTheTargetOverEachLocation() {
        var random = RandomStream(seed: 6)
        let latentShape = [2, 3, 2], latitudes = 4, longitudes = 6, cells = 24
        let weights = (0..<cells).map { _ in 0.5 + random.uniform() }
        var base = (0..<cells).map { _ in 0.2 + 2 * random.uniform() }
        let target = (0..<cells).map { _ in 0.2 + 2 * random.uniform() }
        for y in 2..<4 { for x in 4..<6 { base[y * longitudes + x] = 0 } }  // location (1, 2): no generated variance
        let start: [Float] = (0..<12).map { $0 % 2 == 0 ? 1 : 1.5 }
        func location(_ cell: Int) -> Int { (cell / longitudes / 2) * 3 + (cell % longitudes) / 2 }
        func variance(_ factors: [Float]) -> [Double] {
            (0..<cells).map { base[$0] * Double(factors[2 * location($0)] * factors[2 * location($0)]) }
        }
        let factors = SpreadCalibration.updatedFactors([Float](repeating: 1, count: 12), latentShape: latentShape,
                                                       latitudes: latitudes, longitudes: longitudes, weights: weights,
                                                       generated: variance([Float](repeating: 1, count: 12)), target: target)
        let after = variance(factors)
        for l in 0..<5 {
            let block = (0..<cells).filter { location($0) == l }
            let have = block.reduce(0) { $0 + weights[$1] * after[$1] }, wanted = block.reduce(0) { $0 + weights[$1] * target[$1] }
            XCTAssertEqual(have, wanted, accuracy: 1e-6 * wanted, "location \(l)")
            XCTAssertEqual(factors[2 * l], factors[2 * l + 1], "channels of location \(l)")
        }
        XCTAssertEqual(factors[10], 1)
        // The update multiplies the present factors.
        let again = SpreadCalibration.updatedFactors(start, latentShape: latentShape, latitudes: latitudes, longitudes: longitudes,
                                                     weights: weights, generated: variance([Float](repeating: 1, count: 12)), target: target)
        for (a, (f, s)) in zip(again, zip(factors, start)) { XCTAssertEqual(a, f * s, accuracy: 1e-6) }
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
        let samplers: [LatentDiffusion.Sampler] = [.ddim(steps: 50), .dpmSolver(steps: 12)]
        for (scale, sampler): ([Float], LatentDiffusion.Sampler) in zip([[0.5, 1, 2, 0.9], [1.1, 0.8, 1, 1]], samplers) {
            let calibration = SpreadCalibration(scale: scale, samplerSteps: sampler.steps, samplerEta: sampler.eta,
                                                samplerMethod: sampler.method, generatedMembers: 32,
                                                referenceMembers: 29, seed: 1, spreadRatios: [1.1, 1.01, 1.0])
            try LatentDiffusion.store(calibration, inCheckpoint: url.path)
            let (loaded, provenance) = try LatentDiffusion.load(url.path)
            XCTAssertEqual(loaded.spreadCalibration, calibration)
            XCTAssertEqual(loaded.spreadCalibration?.sampler, sampler, "the sampler, method included, round-trips")
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
