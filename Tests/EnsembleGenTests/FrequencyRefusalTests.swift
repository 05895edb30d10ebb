import Climate
import Foundation
import Models
import TestEnvironment
import XCTest
@testable import EnsembleGen

/// A model trained on one sampling frequency refuses data of the other, naming the file:
/// the climatology and the latents of monthly and annual models mean nothing on the other.
final class FrequencyRefusalTests: TemporaryDirectoryTestCase {

    override func setUpWithError() throws {
        try super.setUpWithError()
        _ = try SimulatePipeline.run(.init(memberCount: 3, startYear: 1990, endYear: 2001, latitudeCount: 16,
                                           longitudeCount: 32, seed: 3, output: path("monthly.nc"), commandLine: ["test"]))
        try writeAnnualMeans(of: path("monthly.nc"), to: path("annual.nc"))
    }

    func trainVAE(on data: String, output: String) throws {
        _ = try VAETrainingPipeline.run(.init(data: [data], trainingMembers: "0-1", validationMembers: "2",
                                              configuration: VAEConfiguration(channels: [8, 16], latentChannels: 1, groups: 4),
                                              epochs: 1, batchSize: 4, samplesPerEpoch: 8, seed: 5, output: output))
    }

    /// `reconstruct` with a VAE trained on annual means refuses monthly data (library and CLI).
    func testAnnualVAERefusesMonthlyData() throws {
        try trainVAE(on: path("annual.nc"), output: path("annual-vae.safetensors"))
        let expected = "\(path("monthly.nc")): monthly data, but the model was trained on annual data; use annual data or train a model on monthly data"
        XCTAssertThrowsError(try ReconstructPipeline.run(.init(model: path("annual-vae.safetensors"), data: [path("monthly.nc")]))) {
            XCTAssertEqual("\($0)", expected)
        }
        let r = try runProcess(try ensemblegenExecutable(), ["reconstruct", "--model", path("annual-vae.safetensors"),
                                                             "--data", path("monthly.nc"), "--output", path("rec.nc")])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(expected), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("rec.nc")))
        // The same model takes annual data.
        XCTAssertNoThrow(try ReconstructPipeline.run(.init(model: path("annual-vae.safetensors"), data: [path("annual.nc")])))
    }

    /// `generate --conditioning <annual file>` with a monthly model directory is refused
    /// before anything is written, the error naming the conditioning file.
    func testMonthlyModelRefusesAnnualConditioning() throws {
        try trainVAE(on: path("monthly.nc"), output: path("vae.safetensors"))
        _ = try DiffusionTrainingPipeline.run(.init(vae: path("vae.safetensors"), data: [path("monthly.nc")], members: "0-1",
                                                    validationMembers: "2", conditioningMember: 0, generator: .autoregressive,
                                                    width: 16, layers: 1, contextMonths: 2, blockMonths: 1, epochs: 1,
                                                    stepsPerEpoch: 2, batchSize: 4, seed: 2, output: path("model")))
        let expected = "\(path("annual.nc")): annual data, but the model was trained on monthly data; use monthly data or train a model on annual data"
        XCTAssertThrowsError(try GeneratePipeline.run(.init(model: path("model"), generator: .autoregressive, memberCount: 1,
                                                            conditioning: path("annual.nc"), output: path("gen.nc"), commandLine: ["test"]))) {
            XCTAssertEqual("\($0)", expected)
        }
        let r = try runProcess(try ensemblegenExecutable(), ["generate", "--model", path("model"), "--conditioning", path("annual.nc"),
                                                             "--members", "1", "--quiet", "--output", path("gen.nc")])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(expected), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("gen.nc")))
    }
}
