import Climate
import Foundation
import Models
import Tensor
import TestEnvironment
import XCTest
@testable import EnsembleGen

/// The whole pipeline — train-vae, train-diffusion, generate, reconstruct — on the grids
/// CMIP users bring, none of whose sizes are all multiples of the VAE's ×4 downsampling
/// except T63's: generated and reconstructed files have the input's coordinates and bounds
/// and pass the CF checks. A regional grid is refused before any training.
final class GridCoverageTests: TemporaryDirectoryTestCase {

    func assertPipelineRuns(latitudes: Int, longitudes: Int, spacing: LatitudeSpacing,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let name = "\(latitudes)x\(longitudes)-\(spacing.rawValue)"
        let data = path("\(name).nc"), vae = path("\(name)-vae.safetensors"), model = path("\(name)-model")
        _ = try SimulatePipeline.run(.init(memberCount: 3, startYear: 1990, endYear: 1991, latitudeCount: latitudes,
                                           longitudeCount: longitudes, latitudeSpacing: spacing, seed: 2, output: data,
                                           commandLine: ["test"]))
        _ = try VAETrainingPipeline.run(.init(data: [data], trainingMembers: "0-1", validationMembers: "2",
                                              configuration: VAEConfiguration(channels: [8, 8, 8], latentChannels: 2, groups: 4),
                                              epochs: 1, batchSize: 4, samplesPerEpoch: 8, validationSamples: 4, seed: 1, output: vae))
        _ = try DiffusionTrainingPipeline.run(.init(vae: vae, data: [data], members: "0-1", conditioningMember: 0,
                                                    generator: .autoregressive, width: 16, layers: 1, epochs: 1, stepsPerEpoch: 2,
                                                    batchSize: 4, output: model))
        let generated = path("\(name)-gen.nc"), reconstructed = path("\(name)-rec.nc")
        _ = try GeneratePipeline.run(.init(model: model, generator: .autoregressive, memberCount: 2, sampler: .ddim(steps: 2),
                                           output: generated, commandLine: ["test"]))
        _ = try ReconstructPipeline.run(.init(model: vae, data: [data], members: "2", output: reconstructed, commandLine: ["test"]))
        let input = try EnsembleReader(path: data)
        for output in [generated, reconstructed] {
            let reader = try EnsembleReader(path: output)
            XCTAssertEqual(reader.grid, input.grid, "\(name): \(output) keeps the grid, bounds included", file: file, line: line)
            XCTAssertEqual(reader.timeCount, 24, name, file: file, line: line)
            XCTAssertTrue(try reader.readMember(0).allSatisfy { $0 > 150 && $0 < 350 }, name, file: file, line: line)
            let check = try runCheckCF(output)
            XCTAssertEqual(check.status, 0, "\(name): " + check.stdout + check.stderr, file: file, line: line)
        }
    }

    func testPoleGrid73x144() throws { try assertPipelineRuns(latitudes: 73, longitudes: 144, spacing: .polePoints) }
    func testPoleGrid145x192() throws { try assertPipelineRuns(latitudes: 145, longitudes: 192, spacing: .polePoints) }
    func testPoleGrid143x144() throws { try assertPipelineRuns(latitudes: 143, longitudes: 144, spacing: .polePoints) }
    func testCellCentredGrid45x90() throws { try assertPipelineRuns(latitudes: 45, longitudes: 90, spacing: .cellCentred) }
    func testGaussianGrid96x192() throws { try assertPipelineRuns(latitudes: 96, longitudes: 192, spacing: .gaussian) }

    /// A tropical Pacific box and a European box crossing 0° (cut from a global file): the
    /// models refuse both, naming the extent and what to do, before training anything.
    func testRegionalGridsAreRefused() throws {
        _ = try SimulatePipeline.run(.init(memberCount: 2, startYear: 1990, endYear: 1990, latitudeCount: 36, longitudeCount: 72,
                                           seed: 2, output: path("global.nc"), commandLine: ["test"]))
        let global = try EnsembleReader(path: path("global.nc"))
        let fields = try global.readMember(0) + (try global.readMember(1))
        let boxes: [(name: String, latitudes: ClosedRange<Double>, keep: (Double) -> Bool, extent: String)] = [
            ("pacific", -20...20, { $0 >= 120 && $0 <= 280 }, "longitudes 122.5…277.5"),
            ("europe", 35...70, { $0 >= 350 || $0 <= 30 }, "longitudes 352.5…27.5 (crossing 0°)"),
        ]
        for box in boxes {
            let rows = global.grid.latitudes.indices.filter { box.latitudes.contains(global.grid.latitudes[$0]) }
            let columns = global.grid.longitudes.indices.filter { box.keep(global.grid.longitudes[$0]) }
            let grid = try Grid(latitudes: rows.map { global.grid.latitudes[$0] }, longitudes: columns.map { global.grid.longitudes[$0] },
                                latitudeBounds: rows.map { global.grid.latitudeBounds[$0] },
                                longitudeBounds: columns.map { global.grid.longitudeBounds[$0] })
            let cells = global.grid.cellCount, months = global.timeCount
            var cut = [Float]()
            for n in 0..<(2 * months) { for j in rows { for i in columns { cut.append(fields[n * cells + j * global.grid.longitudeCount + i]) } } }
            let boxPath = path("\(box.name).nc")
            let writer = try EnsembleWriter(path: boxPath, variable: .nearSurfaceAirTemperature, grid: grid, time: global.time,
                                            members: ["0", "1"], attributes: OutputAttributes(title: "box", source: "test"))
            for m in 0..<2 { try writer.write(member: m, values: Array(cut[(m * months * grid.cellCount)..<((m + 1) * months * grid.cellCount)])) }
            try writer.finish()
            XCTAssertFalse(try EnsembleReader(path: boxPath, requirements: .inspection).grid.isGlobal, box.name)
            XCTAssertThrowsError(try VAETrainingPipeline.run(.init(data: [boxPath], epochs: 1, output: path("\(box.name).safetensors")))) {
                let message = "\($0)"
                XCTAssertTrue(message.contains("\(box.name).nc") && message.contains("not the whole globe")
                                  && message.contains(box.extent) && message.contains("cut the region from the output"), message)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("\(box.name).safetensors")))
        }
    }
}
