import Climate
import Foundation
import Models
import Tensor
import XCTest
@testable import EnsembleGen

/// The fingerprint that decides whether `--resume` may continue a saved training run.
final class ResumedTrainingTests: XCTestCase {
    func vaeRun(channels: [Int] = [16, 32, 64], seed: UInt64 = 1) -> RunFingerprint {
        RunFingerprint(data: ["ens.nc"], dataDigests: ["00000000000000aa"], trainingMembers: [0, 1, 2], seed: seed,
                       schedule: .init(epochs: 10, stepsPerEpoch: 5, samplesPerEpoch: 40, batchSize: 8, batchParts: 2,
                                       learningRate: 2e-3),
                       vae: .init(architecture: VAEConfiguration(channels: channels, latentChannels: 4, groups: 8), scaling: .global))
    }

    func diffusionRun(width: Int = 16, whitened: Bool = false) -> RunFingerprint {
        RunFingerprint(data: ["ens.nc"], dataDigests: ["00000000000000aa"], trainingMembers: [1, 2], seed: 2,
                       schedule: .init(epochs: 2, stepsPerEpoch: 3, batchSize: 4, batchParts: 2, learningRate: 1e-3),
                       diffusion: .init(vaeDigest: "00000000000000bb", conditioningMember: 0,
                                        architecture: DiffusionConfiguration(generator: .transformer, latentDimension: 32, width: width),
                                        emaDecay: 0.999, seasonalScaling: true, innovationOrder: 0, whitened: whitened,
                                        whiteningFloor: 1e-3, conditioningForm: .level))
    }

    /// Each differing field is named, in words, with its saved value and the new one.
    func testDifferencesNameTheFieldsAndBothValues() {
        XCTAssertEqual(vaeRun(channels: [8, 16], seed: 2).differences(from: vaeRun()),
                       "seed (saved 1, now 2) and channels (saved 16,32,64, now 8,16)")
        XCTAssertEqual(diffusionRun(width: 32, whitened: true).differences(from: diffusionRun()),
                       "width (saved 16, now 32) and whitened (saved no, now yes)")
        var otherData = diffusionRun()
        otherData.dataDigests = ["00000000000000cc"]
        otherData.schedule.learningRate = 5e-4
        otherData.diffusion?.conditioningForm = .both
        XCTAssertEqual(otherData.differences(from: diffusionRun()),
                       "data digests (saved 00000000000000aa, now 00000000000000cc), learning rate (saved 0.001, now 0.0005) and conditioning form (saved level, now both)")
    }

    /// Every stored field, nested options included, is compared under its own name.
    func testEveryFieldIsNamed() {
        let names = vaeRun().fields.map(\.name)
        XCTAssertEqual(names, ["data", "data digests", "training members", "seed", "epochs", "steps per epoch", "samples per epoch",
                               "batch size", "batch parts", "learning rate", "channels", "latent channels", "groups",
                               "kl weight", "scaling", "separate global mean", "diffusion"])
        XCTAssertEqual(vaeRun().fields.last?.value, "none", "no diffusion options in a VAE run")
        let diffusionNames = diffusionRun().fields.map(\.name)
        for name in ["vae digest", "conditioning member", "generator", "width", "layers", "context months", "block months",
                     "neighbour months", "ema decay", "seasonal scaling", "innovation order", "whitening floor"] {
            XCTAssertTrue(diffusionNames.contains(name), "\(name) missing in \(diffusionNames)")
        }
    }

    /// The state keeps the fingerprint as JSON: the same run resumes, another is refused naming
    /// what differs, and a state of the earlier `|`-joined format is refused with what to do.
    func testStateRefusesAnotherRunAndTheEarlierFormat() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let contents = (tensors: ["w": Tensor(shape: [1], values: [0.5])], metadata: [String: String]())
        try TrainingState.write(contents, extra: [], fingerprint: vaeRun(), epoch: 1, step: 3, to: path)
        let state = try TrainingState.read(path, fingerprint: vaeRun())
        XCTAssertEqual(state.epoch, 1)
        XCTAssertEqual(state.step, 3)
        XCTAssertThrowsError(try TrainingState.read(path, fingerprint: vaeRun(seed: 7))) {
            XCTAssertTrue("\($0)".hasSuffix("--resume: the saved run differs in seed (saved 1, now 7); resume with the same options"), "\($0)")
        }
        try SafeTensors.write(contents.tensors, metadata: ["training.fingerprint": "ens.nc|[0, 1]|1", "training.epoch": "1"],
                              to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TrainingState.read(path, fingerprint: vaeRun())) {
            XCTAssertTrue("\($0)".contains("written by an earlier version of ensemblegen and cannot be resumed; start again without --resume"), "\($0)")
        }
    }
}
