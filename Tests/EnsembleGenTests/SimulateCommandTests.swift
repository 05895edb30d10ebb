import Climate
import Foundation
import TestEnvironment
import XCTest
@testable import EnsembleGen

final class SimulateCommandTests: TemporaryDirectoryTestCase {

    /// Batches made with --first-member equal the same members of one run, bit for bit, and
    /// the file (and the forcing file) pass the CF checks.
    func testBatchesMatchOneRunAndFilesAreCFValid() throws {
        let exe = try ensemblegenExecutable()
        let common = ["simulate", "--start", "1990", "--end", "1992", "--grid", "8x16", "--seed", "7", "--quiet"]
        let all = try runProcess(exe, common + ["--members", "3", "--output", path("all.nc"), "--forcing-output", path("f.nc")])
        XCTAssertEqual(all.status, 0, all.stderr)
        let batch = try runProcess(exe, common + ["--members", "1", "--first-member", "2", "--output", path("b.nc")])
        XCTAssertEqual(batch.status, 0, batch.stderr)
        let a = try EnsembleReader(path: path("all.nc")), b = try EnsembleReader(path: path("b.nc"))
        XCTAssertEqual(a.memberCount, 3)
        XCTAssertEqual(a.time.count, 36)
        XCTAssertEqual(b.members, ["2"])
        XCTAssertEqual(try a.readMember(2), try b.readMember(0))
        XCTAssertNotEqual(try a.readMember(0), try a.readMember(1))
        for file in [path("all.nc"), path("f.nc")] {
            let r = try runCheckCF(file)
            XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        }
    }

    func testBadArgumentsFailCleanly() throws {
        let exe = try ensemblegenExecutable()
        for args in [["--grid", "32by64"], ["--members", "0"], ["--start", "2000", "--end", "1990"], ["--calendar", "lunar"]] {
            let r = try runProcess(exe, ["simulate", "--output", path("x.nc")] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.lowercased().contains("error"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("x.nc")))
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("x.nc.partial")))
        }
    }

    func testGridParsing() throws {
        XCTAssertTrue(try SimulatePipeline.parseGrid("96x192") == (96, 192))
        XCTAssertThrowsError(try SimulatePipeline.parseGrid("96"))
    }
}
