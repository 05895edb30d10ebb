import Foundation
import XCTest
import RandomStreams
import Tensor
@testable import Models

/// The diffusion checkpoint: format 2 (statistics as tensors), Float16 weight matrices, format
/// 1 still read, damaged statistics refused.
final class DiffusionCheckpointTests: XCTestCase {
    private let d = 5

    /// A model with every statistic a checkpoint can hold: seasonal scale, AR(2) filter, whitening
    /// and the `both` conditioning form, fitted on random series.
    private func model(seed: UInt64 = 1) throws -> LatentDiffusion {
        var random = RandomStream(seed: seed)
        let T = 48, months = (0..<T).map { $0 % 12 + 1 }
        let conditioning = (0..<(T * d)).map { _ in Float(random.gaussian()) }
        let residuals = (0..<(3 * T * d)).map { _ in Float(random.gaussian()) * 0.5 }
        let statistics = try LatentStatistics.fit(conditioning: conditioning, residuals: residuals, monthsOfYear: months, dimension: d,
                                                  seasonal: true, innovationOrder: 2, whitened: true, conditioningForm: .both)
        let configuration = DiffusionConfiguration(generator: .autoregressive, latentDimension: d, width: 16, layers: 1, heads: 2,
                                                   contextMonths: 2, blockMonths: 1, conditioningForms: 2)
        return LatentDiffusion(generator: makeSequenceGenerator(configuration, random: &random), statistics: statistics)
    }

    private func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("diffusion-\(UUID().uuidString).safetensors").path
    }

    private func size(_ path: String) throws -> Int {
        try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    /// The statistics travel as Float32 tensors, bit-exact, with the weights and provenance;
    /// the metadata holds no arrays.
    func testFormat2RoundTripsEveryStatistic() throws {
        let original = try model(), path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertNotNil(original.statistics.residualEigenvectors)
        XCTAssertNotNil(original.statistics.residualSeasonalScale)
        XCTAssertEqual(original.statistics.innovationOrder, 2)
        try LatentDiffusion.write(try original.checkpointContents(provenance: ["seed": "1"]), to: path)
        let (tensors, metadata) = try SafeTensors.read(URL(fileURLWithPath: path))
        XCTAssertEqual(metadata["format"], "ensemblegen-diffusion/2")
        XCTAssertNil(metadata["statistics"])
        XCTAssertEqual(tensors["statistics.residual_eigenvectors"]?.shape, [d, d])
        XCTAssertEqual(tensors["statistics.residual_seasonal_scale"]?.shape, [12, d])
        XCTAssertEqual(tensors["statistics.residual_autocorrelation"]?.shape, [d, 2])
        let (loaded, provenance) = try LatentDiffusion.load(path)
        XCTAssertEqual(provenance, ["seed": "1"])
        XCTAssertEqual(loaded.statistics, original.statistics)
        XCTAssertEqual(loaded.weightPrecision, .float32)
        for (p, q) in zip(original.generator.parameters, loaded.generator.parameters) {
            XCTAssertEqual(p.value.values.map(\.bitPattern), q.value.values.map(\.bitPattern), p.name)
        }
    }

    /// Float16 halves the weight matrices' bytes and rounds each to its nearest Float16; vectors
    /// and statistics stay exact; storing a calibration and rewriting keep the precision; back
    /// to Float32 the rounded values stay as they are.
    func testFloat16WeightMatrices() throws {
        let original = try model(), full = temporaryPath(), half = temporaryPath()
        defer { for path in [full, half] { try? FileManager.default.removeItem(atPath: path) } }
        try LatentDiffusion.write(try original.checkpointContents(provenance: [:]), to: full)
        original.weightPrecision = .float16
        try LatentDiffusion.write(try original.checkpointContents(provenance: [:]), to: half)
        let matrixValues = original.generator.parameters.filter { $0.value.rank >= 2 }.map(\.value.count).reduce(0, +)
        XCTAssertGreaterThan(matrixValues, 0)
        XCTAssertEqual(try size(full) - size(half), 2 * matrixValues, accuracy: 64, "2 bytes saved per matrix value")

        let loaded = try LatentDiffusion.load(half).model
        XCTAssertEqual(loaded.weightPrecision, .float16)
        XCTAssertEqual(loaded.statistics, original.statistics)
        for (p, q) in zip(original.generator.parameters, loaded.generator.parameters) {
            let expected = p.value.rank >= 2 ? p.value.values.map { Float(Float16($0)) } : p.value.values
            XCTAssertEqual(q.value.values.map(\.bitPattern), expected.map(\.bitPattern), p.name)
            if p.value.rank >= 2 { XCTAssertNotEqual(q.value.values, p.value.values, "\(p.name) is rounded") }
        }

        let halfSize = try size(half)
        try LatentDiffusion.store(SpreadCalibration(scale: [Float](repeating: 0.9, count: d), samplerSteps: 12, samplerEta: 0,
                                                    generatedMembers: 4, referenceMembers: 4, seed: 1), inCheckpoint: half)
        XCTAssertEqual(try size(half), halfSize, accuracy: 400, "the calibration adds metadata; the weights stay Float16")
        XCTAssertEqual(try LatentDiffusion.load(half).model.weightPrecision, .float16)

        try LatentDiffusion.rewrite(half, weightPrecision: .float32)
        let widened = try LatentDiffusion.load(half).model
        XCTAssertEqual(widened.weightPrecision, .float32)
        XCTAssertNotNil(widened.spreadCalibration)
        for (p, q) in zip(loaded.generator.parameters, widened.generator.parameters) {
            XCTAssertEqual(p.value.values.map(\.bitPattern), q.value.values.map(\.bitPattern), p.name)
        }
    }

    /// Checkpoints of format 1 (the statistics as JSON text in the metadata) still load.
    func testFormat1IsStillRead() throws {
        let original = try model(), path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var metadata = try original.checkpointContents(provenance: ["old": "yes"]).metadata
        metadata["format"] = "ensemblegen-diffusion/1"
        metadata["statistics"] = try CheckpointMetadata.json(original.statistics)
        metadata["weight_precision"] = nil
        metadata["conditioning_form"] = nil
        try SafeTensors.write(original.generator.namedTensors, metadata: metadata, to: URL(fileURLWithPath: path))
        let (loaded, provenance) = try LatentDiffusion.load(path)
        XCTAssertEqual(loaded.statistics, original.statistics)
        XCTAssertEqual(provenance, ["old": "yes"])
        XCTAssertEqual(loaded.weightPrecision, .float32)
    }

    /// Statistics that do not fit the network, or are missing, are refused with the file named.
    func testDamagedStatisticsAreRefused() throws {
        let original = try model(), path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let contents = try original.checkpointContents(provenance: [:])
        let cases: [(String, [String: Tensor], [String: String], String)] = [
            ("missing", contents.tensors.filter { $0.key != "statistics.residual_scale" }, contents.metadata,
             "has no tensor 'statistics.residual_scale'"),
            ("short", contents.tensors.merging(["statistics.conditioning_mean": Tensor(shape: [3])]) { $1 }, contents.metadata,
             "conditioning mean has 3 values for 5 latent dimensions"),
            ("zero scale", contents.tensors.merging(["statistics.residual_scale": Tensor(shape: [d])]) { $1 }, contents.metadata,
             "scales are not all positive"),
            ("half whitening", contents.tensors.filter { $0.key != "statistics.residual_eigenvectors" }, contents.metadata,
             "whitening lacks its eigenvectors or eigenvalues"),
            ("precision", contents.tensors, contents.metadata.merging(["weight_precision": "float8"]) { $1 },
             "'weight_precision' is 'float8'"),
            ("form", contents.tensors, contents.metadata.merging(["conditioning_form": "sideways"]) { $1 },
             "'conditioning_form' is missing or invalid"),
        ]
        for (label, tensors, metadata, expected) in cases {
            try SafeTensors.write(tensors, metadata: metadata, to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try LatentDiffusion.load(path), label) {
                XCTAssertTrue("\($0)".hasPrefix(path + ": "), "\(label): \($0)")
                XCTAssertTrue("\($0)".contains(expected), "\(label): \($0)")
            }
        }
    }
}
