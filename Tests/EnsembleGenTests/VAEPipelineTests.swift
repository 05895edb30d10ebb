import Climate
import Foundation
import Models
import Tensor
import TestEnvironment
import XCTest
@testable import EnsembleGen

/// train-vae and reconstruct on a small simulated ensemble (16x32, 3 years, 3 members).
final class VAEPipelineTests: TemporaryDirectoryTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        _ = try SimulatePipeline.run(.init(memberCount: 3, startYear: 1990, endYear: 1992, latitudeCount: 16,
                                           longitudeCount: 32, seed: 3, output: path("ens.nc"), commandLine: ["test"]))
    }

    func options(output: String, resume: Bool = false, stopAfter: Int? = nil) -> VAETrainingPipeline.Options {
        .init(data: [path("ens.nc")], trainingMembers: "0-1", validationMembers: "2",
              configuration: VAEConfiguration(channels: [8, 16], latentChannels: 2, groups: 4),
              epochs: 2, batchSize: 8, samplesPerEpoch: 40, validationSamples: 12, checkpointInterval: 2,
              seed: 5, output: output, resume: resume, stopAfterSteps: stopAfter)
    }

    /// A run killed after 3 steps (mid-epoch, between checkpoints) and resumed ends with the
    /// same weights, bit for bit, as an uninterrupted run — also when the uninterrupted run
    /// had 1 thread and the resumed one 2 (the mini-batch is split into 2 parts either way).
    func testResumedRunEqualsUninterruptedRun() throws {
        let threads = ComputeThreads.count
        defer { ComputeThreads.configure(threads) }
        ComputeThreads.configure(1)
        let full = try VAETrainingPipeline.run(options(output: path("full.safetensors")))
        XCTAssertTrue(full.completed)
        XCTAssertEqual(full.epochs.count, 2)
        XCTAssertNotNil(full.epochs.last?.validationRMSE)
        XCTAssertFalse(FileManager.default.fileExists(atPath: VAETrainingPipeline.statePath(path("full.safetensors"))))

        let interrupted = try VAETrainingPipeline.run(options(output: path("resumed.safetensors"), stopAfter: 3))
        XCTAssertFalse(interrupted.completed)
        XCTAssertTrue(FileManager.default.fileExists(atPath: VAETrainingPipeline.statePath(path("resumed.safetensors"))))
        ComputeThreads.configure(2)
        let secondLeg = try VAETrainingPipeline.run(options(output: path("resumed.safetensors"), resume: true, stopAfter: 4))
        XCTAssertFalse(secondLeg.completed, "stopped again inside epoch 2")
        let finished = try VAETrainingPipeline.run(options(output: path("resumed.safetensors"), resume: true))
        XCTAssertTrue(finished.completed)

        let a = try TrainedVAE.load(path("full.safetensors")), b = try TrainedVAE.load(path("resumed.safetensors"))
        for (p, q) in zip(a.model.parameters, b.model.parameters) {
            XCTAssertEqual(p.value.values.map(\.bitPattern), q.value.values.map(\.bitPattern), p.name)
        }
        XCTAssertThrowsError(try VAETrainingPipeline.run(options(output: path("full.safetensors"), resume: true))) {
            XCTAssertTrue("\($0)".contains("no training state to resume"), "\($0)")
        }
    }

    func testReconstructWritesCFFileAndRejectsOtherGrids() throws {
        _ = try VAETrainingPipeline.run(options(output: path("vae.safetensors")))
        let result = try ReconstructPipeline.run(.init(model: path("vae.safetensors"), data: [path("ens.nc")], members: "1-2",
                                                       output: path("rec.nc"), commandLine: ["test"]))
        XCTAssertEqual(result.members, [1, 2])
        XCTAssertEqual(result.compressionRatio, 2, "×2 downsampling, 2 latent channels")
        XCTAssertTrue(result.rmse > 0 && result.rmse.isFinite)
        XCTAssertEqual(result.bandRMSE.count, 6)
        let reader = try EnsembleReader(path: path("rec.nc"))
        XCTAssertEqual(reader.memberCount, 2)
        XCTAssertEqual(reader.timeCount, 36)
        let check = try runCheckCF(path("rec.nc"))
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)

        _ = try SimulatePipeline.run(.init(memberCount: 1, startYear: 1990, endYear: 1990, latitudeCount: 8,
                                           longitudeCount: 16, output: path("coarse.nc"), commandLine: ["test"]))
        XCTAssertThrowsError(try ReconstructPipeline.run(.init(model: path("vae.safetensors"), data: [path("coarse.nc")]))) {
            XCTAssertTrue("\($0)".contains("coarse.nc: grid 8x16 does not match the model's training grid 16x32"), "\($0)")
        }
    }

    /// A resumed run with another architecture, overlapping member lists and data of another
    /// frequency than the model's are refused, each naming what differs.
    func testRefusesWhatWouldSilentlyGiveAnotherModel() throws {
        _ = try VAETrainingPipeline.run(options(output: path("vae.safetensors"), stopAfter: 1))
        var other = options(output: path("vae.safetensors"), resume: true)
        other.configuration.channels = [8, 8]
        XCTAssertThrowsError(try VAETrainingPipeline.run(other)) {
            XCTAssertTrue("\($0)".contains("--resume: the saved run differs in channels (saved 8,16, now 8,8); resume with the same options"), "\($0)")
        }
        var overlapping = options(output: path("overlap.safetensors"))
        overlapping.validationMembers = "1-2"
        XCTAssertThrowsError(try VAETrainingPipeline.run(overlapping)) {
            XCTAssertTrue("\($0)".hasSuffix("member 1 is both a training and a validation member; the validation members must be held out"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("overlap.safetensors")))

        // The first months of member 0 relabelled as annual means of 1990-1992.
        _ = try VAETrainingPipeline.run(options(output: path("monthly.safetensors")))
        let monthly = try EnsembleReader.read(paths: [path("ens.nc")])
        var annual = TimeAxis(units: monthly.time.units, calendar: monthly.time.calendar, values: [182, 547, 912])
        annual.bounds = [[0, 365], [365, 730], [730, 1096]]
        let cells = monthly.grid.cellCount
        try EnsembleWriter.write(try Ensemble(variable: monthly.variable, grid: monthly.grid, time: annual, members: ["0"],
                                              data: Array(monthly.data.prefix(3 * cells))),
                                 to: path("annual.nc"), attributes: OutputAttributes(title: "t", source: "test", history: "test"))
        XCTAssertThrowsError(try ReconstructPipeline.run(.init(model: path("monthly.safetensors"), data: [path("annual.nc")]))) {
            XCTAssertEqual("\($0)", "\(self.path("annual.nc")): annual data, but the model was trained on monthly data; use monthly data or train a model on annual data")
        }
    }
}
