import Climate
import Foundation
import Models
import RandomStreams
import TestEnvironment
import XCTest
@testable import EnsembleGen

/// `ModelDirectory` on the shipped model (Data/default) and on directories made from its
/// files (linked) with missing, unreadable or mismatched files beside them.
final class ModelDirectoryTests: XCTestCase {
    let shipped = repositoryRoot.appendingPathComponent("Data/default").path
    var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("modeldir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// A model directory holding links to the shipped model's `names`.
    func linked(_ names: [String]) throws -> ModelDirectory {
        for name in names {
            try FileManager.default.createSymbolicLink(atPath: "\(directory!)/\(name)", withDestinationPath: "\(shipped)/\(name)")
        }
        return ModelDirectory(directory)
    }

    /// An untrained VAE on the shipped model's grid saved as the directory's vae.safetensors.
    func writeVAE(channels: [Int], latentChannels: Int, grid: Grid? = nil, provenance: [String: String] = [:]) throws {
        let grid = try grid ?? ModelDirectory(shipped).vae().grid
        var random = RandomStream(seed: 1)
        let normalization = try AnomalyNormalization(grid: grid, scaling: .perGridPoint,
                                                     climatology: [Float](repeating: 280, count: 12 * grid.cellCount),
                                                     scale: [Float](repeating: 1, count: grid.cellCount))
        let configuration = VAEConfiguration(channels: channels, latentChannels: latentChannels, groups: 4)
        try TrainedVAE(model: VariationalAutoencoder(configuration: configuration, random: &random), normalization: normalization,
                       separatesGlobalMean: true, provenance: provenance).save(to: "\(directory!)/\(ModelDirectory.vaeFileName)")
    }

    func assertThrows<T>(_ body: @autoclosure () throws -> T, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertFalse(error is CFError, "a model directory's problem is not CF file content: \(error)", file: file, line: line)
            let message = oneLineErrorMessage(error)
            for part in parts { XCTAssertTrue(message.contains(part), "'\(part)' missing from: \(message)", file: file, line: line) }
        }
    }

    /// The shipped model loads: every file, consistent, each read once, digests stable.
    func testShippedModelLoads() throws {
        let model = ModelDirectory(shipped)
        let vae = try model.vae()
        XCTAssertTrue(try model.vae() === vae, "the VAE is read again")
        XCTAssertEqual(try model.latentDimension(), 257)
        XCTAssertEqual(try model.conditioning().dimension, 257)
        for kind in GeneratorKind.allCases {
            let (diffusion, provenance) = try model.diffusion(kind)
            XCTAssertEqual(diffusion.configuration.latentDimension, 257)
            XCTAssertTrue(try model.diffusion(kind).model === diffusion, "\(kind) is read again")
            XCTAssertNotNil(provenance["epochs"])
        }
        XCTAssertEqual(try model.unresolvedVariability()?.grid.cellCount, vae.grid.cellCount)
        let digest = try model.digest(ModelDirectory.vaeFileName)
        XCTAssertEqual(digest, try FileDigest.hex(path: model.file(ModelDirectory.vaeFileName)))
        XCTAssertEqual(digest.count, 16)
        XCTAssertTrue(model.files.contains(model.file(LatentDiffusion.fileName(.transformer))))
    }

    /// A missing file names the directory and the command that makes it; the optional
    /// unresolved variability is nil instead; a missing directory and a file given as the
    /// directory are named as such.
    func testMissingFilesNameTheDirectoryAndTheCommand() throws {
        let model = try linked([ModelDirectory.vaeFileName])
        assertThrows(try model.diffusion(.transformer),
                     mentions: ["\(directory!): the model directory has no diffusion-transformer.safetensors",
                                "ensemblegen train-diffusion --generator transformer", "--output \(directory!)"])
        assertThrows(try model.conditioning(),
                     mentions: ["\(directory!): the model directory has no conditioning.safetensors", "ensemblegen train-diffusion"])
        XCTAssertNil(try model.unresolvedVariability())
        XCTAssertTrue(model.howToMake(UnresolvedVariability.fileName).contains("ensemblegen fit-unresolved --model \(directory!)"))
        XCTAssertNoThrow(try model.vae())
        let nowhere = directory + "/nowhere"
        assertThrows(try ModelDirectory(nowhere).vae(), mentions: ["\(nowhere): no such model directory"])
        let file = model.file(ModelDirectory.vaeFileName)
        assertThrows(try ModelDirectory(file).vae(), mentions: ["\(file): not a directory"])
    }

    /// A file that cannot be read as what it should be is named.
    func testUnreadableFileIsNamed() throws {
        let model = try linked([LatentDiffusion.fileName(.autoregressive)])
        let path = model.file(ModelDirectory.vaeFileName)
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: path))
        assertThrows(try model.vae(), mentions: [path])
        assertThrows(try model.diffusion(.autoregressive), mentions: [path])
    }

    /// A diffusion checkpoint or conditioning series of another latent dimension than the
    /// VAE's is refused, naming the file and both dimensions.
    func testLatentDimensionMismatchIsRefused() throws {
        let model = try linked([LatentDiffusion.fileName(.autoregressive), ConditioningSeries.fileName])
        try writeVAE(channels: [8, 16], latentChannels: 1)
        XCTAssertEqual(try model.latentDimension(), 513)
        let diffusion = model.file(LatentDiffusion.fileName(.autoregressive))
        assertThrows(try model.diffusion(.autoregressive),
                     mentions: ["\(diffusion): latent dimension 257 does not match the VAE's 513"])
        assertThrows(try model.conditioning(),
                     mentions: ["\(model.file(ConditioningSeries.fileName)): latent dimension 257 does not match the VAE's 513"])
        assertThrows(try model.diffusion(.autoregressive), mentions: ["latent dimension 257"])
    }

    /// Unresolved variability on another grid, and a conditioning series of another
    /// frequency than the VAE was trained on, are refused naming the file.
    func testGridAndFrequencyMismatchesAreRefused() throws {
        _ = try linked([UnresolvedVariability.fileName, ConditioningSeries.fileName, LatentDiffusion.fileName(.transformer)])
        // 16x32 / 2 × 2 channels + the global mean: the shipped model's 257 latent values, on another grid.
        let other = ModelDirectory(directory)
        try writeVAE(channels: [8, 16], latentChannels: 2, grid: .regular(latitudeCount: 16, longitudeCount: 32))
        // The same latent dimension, but not the VAE the generator learned.
        assertThrows(try other.diffusion(.transformer), mentions: ["trained with another VAE"])
        assertThrows(try other.unresolvedVariability(),
                     mentions: ["\(other.file(UnresolvedVariability.fileName)): grid 32x64 does not match the model's training grid 16x32"])
        XCTAssertNoThrow(try other.conditioning())

        try FileManager.default.removeItem(atPath: other.file(ModelDirectory.vaeFileName))
        let annual = ModelDirectory(directory)
        try writeVAE(channels: [8, 16, 32], latentChannels: 2, provenance: ["time_frequency": TimeFrequency.annual.rawValue])
        assertThrows(try annual.conditioning(),
                     mentions: ["\(annual.file(ConditioningSeries.fileName)): monthly time steps", "trained on annual data"])
    }
}
