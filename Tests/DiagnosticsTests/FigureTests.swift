import XCTest
import Foundation
import Climate
@testable import Diagnostics

final class FigureTests: XCTestCase {
    /// Writes every figure of an evaluation and of a single-ensemble report and checks that
    /// each is a non-trivial PNG. Set DIAGNOSTICS_FIGURE_DIR to keep them for inspection.
    func testFiguresAreWrittenAsPNG() throws {
        let grid = Grid.regular(latitudeCount: 18, longitudeCount: 36)
        let ref = try Synthetic.climate(grid: grid, members: 5, startYear: 1955, years: 45, seed: 4, name: "reference", memberOffset: 100)
        let gen = try Synthetic.climate(grid: grid, members: 4, startYear: 1955, years: 45, seed: 4, noiseScale: 0.8, name: "generated", memberOffset: 200)
        let land = (0..<grid.cellCount).map { c -> Bool in
            let lat = grid.latitudes[c / 36], lon = grid.longitudes[c % 36]
            return (lat > 10 && lat < 70 && lon > 235 && lon < 300) || (lat > -35 && lat < 35 && lon > 345 || lon < 40 && lat > -35 && lat < 35)
        }
        let options = DiagnosticOptions(spectrumSegmentMonths: 240, eofModeCount: 3, verificationTimeStride: 3, landMask: land)
        let report = try EnsembleEvaluation.compare(generated: gen, reference: ref, options: options)
        let dir: URL
        if let keep = ProcessInfo.processInfo.environment["DIAGNOSTICS_FIGURE_DIR"] {
            dir = URL(fileURLWithPath: keep)
        } else {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("diag-fig-\(UUID().uuidString)")
        }
        defer { if ProcessInfo.processInfo.environment["DIAGNOSTICS_FIGURE_DIR"] == nil { try? FileManager.default.removeItem(at: dir) } }
        var urls = try report.writeFigures(to: dir.appendingPathComponent("evaluation"))
        let single = try EnsembleDiagnostics.compute(gen, options: DiagnosticOptions(spectrumSegmentMonths: 240, eofModeCount: 3))
        urls += try single.writeFigures(to: dir.appendingPathComponent("single"))
        XCTAssertEqual(urls.count, 8 + 7)
        for u in urls {
            let data = try Data(contentsOf: u)
            XCTAssertEqual(Array(data.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "\(u.lastPathComponent) is not a PNG")
            XCTAssertGreaterThan(data.count, 10_000, "\(u.lastPathComponent) looks empty")
        }
    }
}
