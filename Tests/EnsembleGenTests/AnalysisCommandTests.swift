import Climate
import Foundation
import TestEnvironment
import XCTest
@testable import EnsembleGen

/// diagnose, baseline and evaluate end to end through the built binary on a small simulated
/// ensemble (8 members, 1850–1900, 16x32): the commands run, write their reports and a
/// CF-valid baseline file, and fail cleanly on bad member lists.
final class AnalysisCommandTests: XCTestCase {
    static var directory: URL!
    static var ensemble: String { directory.appendingPathComponent("ens.nc").path }

    override class func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("analysis-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try? SimulatePipeline.run(.init(memberCount: 8, startYear: 1850, endYear: 1900, latitudeCount: 16,
                                            longitudeCount: 32, seed: 3, output: ensemble, commandLine: ["test"]))
    }
    override class func tearDown() { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { Self.directory.appendingPathComponent(name).path }

    func testDiagnoseWritesReportAndFigures() throws {
        let r = try runProcess(try ensemblegenExecutable(), ["diagnose", Self.ensemble, "--output", path("diag")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("members: 8"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Niño3.4: std"), r.stdout)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("diag/report.json")))) as? [String: Any]
        XCTAssertNotNil(json?["nino34"])
        let pngs = try FileManager.default.contentsOfDirectory(atPath: path("diag")).filter { $0.hasSuffix(".png") }
        XCTAssertGreaterThanOrEqual(pngs.count, 5)
    }

    func testBaselineThenEvaluate() throws {
        let exe = try ensemblegenExecutable()
        let b = try runProcess(exe, ["baseline", "--training", Self.ensemble, "--training-members", "0-5", "--members", "4",
                                     "--modes", "20", "--quiet", "--output", path("base.nc")])
        XCTAssertEqual(b.status, 0, b.stderr)
        let reader = try EnsembleReader(path: path("base.nc"))
        XCTAssertEqual(reader.memberCount, 4)
        XCTAssertTrue(reader.grid.matches(try EnsembleReader(path: Self.ensemble).grid))
        let e = try runProcess(exe, ["evaluate", "--generated", path("base.nc"), "--reference", Self.ensemble,
                                     "--reference-members", "6-7", "--training", Self.ensemble, "--training-members", "0-5",
                                     "--conditioning-member", "0", "--output", path("eval")])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("generated"), e.stdout)
        XCTAssertTrue(e.stdout.contains("training"), e.stdout)
        // Baseline alone (no generated ensemble yet) is scored under its own name.
        let only = try runProcess(exe, ["evaluate", "--baseline", path("base.nc"), "--reference", Self.ensemble,
                                        "--reference-members", "6-7", "--output", path("eval-baseline")])
        XCTAssertEqual(only.status, 0, only.stderr)
        XCTAssertTrue(only.stdout.contains("baseline"), only.stdout)
        let none = try runProcess(exe, ["evaluate", "--reference", Self.ensemble, "--output", path("eval-none")])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("nothing to evaluate"), none.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("eval/report.md")))
        let r = try runCheckCF(path("base.nc"))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }

    func testBadMemberListFailsWithOneLine() throws {
        let r = try runProcess(try ensemblegenExecutable(), ["diagnose", Self.ensemble, "--members", "0-99", "--output", path("x")])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("member 8 does not exist"), r.stderr)
    }

    func testMemberSelection() throws {
        XCTAssertEqual(try MemberSelection.parse("0-2,5", count: 6, file: "f"), [0, 1, 2, 5])
        XCTAssertThrowsError(try MemberSelection.parse("3-1", count: 6, file: "f"))
        XCTAssertThrowsError(try MemberSelection.parse("a", count: 6, file: "f"))
    }
}
