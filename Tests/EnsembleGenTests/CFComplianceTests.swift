import Foundation
import TestEnvironment
import XCTest
import NetCDF
import Climate

/// Files written by `EnsembleWriter` pass Scripts/check-cf.sh (cfchecks 0 errors and 0
/// warnings; xarray with warnings as errors; cdo sinfon; ncks -m).
final class CFComplianceTests: XCTestCase {
    func testWrittenSyntheticEnsemblePassesAllValidators() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let grid = Grid.regular(latitudeCount: 8, longitudeCount: 16)
        let time = TimeAxis.monthly(startYear: 1850, endYear: 1851, calendar: .noLeap)
        let members = ["0", "1", "2"]
        var data = (0..<(members.count * time.count * grid.cellCount)).map { 250 + Float($0 % 97) * 0.5 }
        data[5] = .nan   // a missing value, written as _FillValue
        let ensemble = try Ensemble(variable: .nearSurfaceAirTemperature, grid: grid, time: time, members: members, data: data)
        let attributes = OutputAttributes(
            title: "EnsembleGen test ensemble", institution: "EnsembleGen tests", source: "EnsembleGen 0.1.0, test, DDIM 50 steps",
            history: OutputAttributes.historyLine(commandLine: ["ensemblegen", "generate", "--members", "3"]),
            references: "arXiv:2407.02070",
            extra: [("conditioning_member", .int32([0])), ("seed", .int64([1234])), ("checkpoint_sha256", .text(String(repeating: "ab", count: 32)))])
        let path = directory.appendingPathComponent("synthetic.nc").path
        try EnsembleWriter.write(ensemble, to: path, attributes: attributes, storage: OutputStorage(deflateLevel: 2), layout: .timeFirst)
        let r = try runCheckCF(path)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("cfchecks: 0 errors, 0 warnings"), r.stdout)
        XCTAssertTrue(r.stdout.contains("cdo sinfon: ok"), r.stdout)
        XCTAssertTrue(r.stdout.contains("ncks -m: ok"), r.stdout)
        // The round trip through the file keeps the NaN.
        let back = try EnsembleReader.read(paths: [path])
        XCTAssertTrue(back.data[5].isNaN)
        XCTAssertEqual(back.data[6], data[6])
    }

    /// Without the CF tables the script skips (exit 77) and says why.
    func testCheckScriptSkipsWithoutTables() throws {
        let script = repositoryRoot.appendingPathComponent("Scripts/check-cf.sh").path
        let r = try runProcess(URL(fileURLWithPath: "/bin/bash"), [script, "/nonexistent.nc"],
                               environment: ["CF_TABLES_DIR": "/nonexistent-cf-tables"])
        XCTAssertEqual(r.status, 77)
        XCTAssertTrue(r.stderr.contains("check-cf: skipped: CF table /nonexistent-cf-tables/cf-standard-name-table.xml not found"), r.stderr)
        let usage = try runProcess(URL(fileURLWithPath: "/bin/bash"), [script])
        XCTAssertEqual(usage.status, 2)
    }
}
