import Foundation
import TestEnvironment
import XCTest
import NetCDF
@testable import Climate

/// `--chunking` and `--deflate-level`: the chunk shapes and compression in the file, in both
/// dimension orders, and the values unchanged by either.
final class OutputStorageTests: CFTestCase {
    func ensemble(latitudes: Int, longitudes: Int, years: Int) throws -> Ensemble {
        let grid = Grid.regular(latitudeCount: latitudes, longitudeCount: longitudes)
        let time = TimeAxis.monthly(startYear: 1850, endYear: 1850 + years - 1, calendar: .noLeap)
        let n = 2 * time.count * grid.cellCount
        return try Ensemble(variable: .nearSurfaceAirTemperature, grid: grid, time: time, members: ["0", "1"],
                            data: (0..<n).map { 250 + Float($0 % 997) * 0.01 })
    }

    func testChunkShapesAndCompression() throws {
        let cases: [(OutputStorage, EnsembleWriter.Layout, years: Int, chunks: [Int], deflate: Int?)] = [
            (OutputStorage(), .timeFirst, 2, [1, 1, 20, 40], 1),
            (OutputStorage(chunking: .timeSeries, deflateLevel: 4), .timeFirst, 2, [24, 1, 8, 16], 4),
            (OutputStorage(chunking: .timeSeries, deflateLevel: 0), .realizationFirst, 2, [1, 24, 8, 16], nil),
            // A long series is cut into chunks of 2048 months (1 MiB of float32 on an 8 × 16 tile).
            (OutputStorage(chunking: .timeSeries, deflateLevel: 9), .timeFirst, 180, [2048, 1, 8, 16], 9),
        ]
        for (index, c) in cases.enumerated() {
            let e = try ensemble(latitudes: 20, longitudes: 40, years: c.years)
            let p = path("storage\(index).nc")
            try EnsembleWriter.write(e, to: p, attributes: OutputAttributes(title: "t", source: "test"), storage: c.0, layout: c.1)
            try NetCDFFile.withFile(p) { f in
                let tas = try XCTUnwrap(f.variable("tas"))
                XCTAssertEqual(try tas.chunking(), c.chunks, "case \(index)")
                XCTAssertEqual(try tas.compression().deflateLevel, c.deflate, "case \(index)")
            }
            let back = try EnsembleReader.read(paths: [p])
            XCTAssertEqual(back.data.map(\.bitPattern), e.data.map(\.bitPattern), "case \(index)")
        }
        // Tiles never exceed a small grid.
        XCTAssertEqual(OutputStorage(chunking: .timeSeries).chunks(times: 12, latitudes: 4, longitudes: 6).lat, 4)
        XCTAssertEqual(OutputStorage(chunking: .timeSeries).chunks(times: 12, latitudes: 4, longitudes: 6).lon, 6)
        XCTAssertThrowsError(try EnsembleWriter.write(try ensemble(latitudes: 4, longitudes: 6, years: 1), to: path("bad.nc"),
                                                      attributes: OutputAttributes(title: "t", source: "test"),
                                                      storage: OutputStorage(deflateLevel: -1))) {
            XCTAssertTrue("\($0)".contains("deflate level must be 0…9, got -1"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("bad.nc")))
    }
}
