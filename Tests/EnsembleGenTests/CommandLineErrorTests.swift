import Foundation
import TestEnvironment
import XCTest
import NetCDF

/// Bad input given to the built `ensemblegen` binary: every case must give exactly one line
/// `error: <file>: …` on standard error, a non-zero exit (not a crash), and no output file.
final class CommandLineErrorTests: TemporaryDirectoryTestCase {

    /// Runs `info BAD` and `merge GOOD BAD --output out.nc` and checks the error contract.
    func assertCleanFailure(_ bad: String, mentions expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let exe = try ensemblegenExecutable()
        let good = path("good.nc")
        try writeFieldFile(good, values: { k, j, i in Float(280 + k + j + i) })
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        for args in [["info", bad], ["merge", "-q", good, bad, "--output", path("out.nc")], ["merge", "-q", bad, "--output", path("out.nc")]] {
            let r = try runProcess(exe, args)
            XCTAssertEqual(r.reason, .exit, "\(args): terminated by a signal", file: file, line: line)
            XCTAssertNotEqual(r.status, 0, "\(args): exit status 0", file: file, line: line)
            let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
            XCTAssertEqual(lines.count, 1, "\(args): stderr is not one line: \(r.stderr)", file: file, line: line)
            XCTAssertTrue(r.stderr.hasPrefix("error: \(bad): "), "\(args): \(r.stderr)", file: file, line: line)
            XCTAssertTrue(r.stderr.contains(expected), "\(args): expected '\(expected)' in \(r.stderr)", file: file, line: line)
            XCTAssertFalse(r.stderr.contains("Fatal error"), file: file, line: line)
            let after = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
            XCTAssertEqual(after, before, "\(args): files left behind: \(after.subtracting(before))", file: file, line: line)
        }
    }

    func testMissingFile() throws {
        try assertCleanFailure(path("absent.nc"), mentions: "cannot open: No such file or directory")
    }

    func testTextFile() throws {
        let p = path("notes.nc")
        try "this is not netCDF\n".write(toFile: p, atomically: true, encoding: .utf8)
        try assertCleanFailure(p, mentions: "cannot open: NetCDF: Unknown file format")
    }

    func testTruncatedNetCDFFile() throws {
        let full = path("full.nc"), cut = path("truncated.nc")
        try writeFieldFile(full, values: { k, j, i in Float(k * 1000 + j * 10 + i) }, shape: (40, 16, 32))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: full))
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
        try FileManager.default.removeItem(atPath: full)
        try assertCleanFailure(cut, mentions: "NetCDF: ")
    }

    func testFileWithoutTemperatureLikeVariable() throws {
        let p = path("nogrid.nc")
        try writeFieldFile(p, values: { _, _, _ in 1 }, withCoordinates: false)
        try assertCleanFailure(p, mentions: "no temperature-like gridded variable")
    }

    func testUnknownUnits() throws {
        let p = path("precip.nc")
        try writeFieldFile(p, variable: "pr", units: "kg m-2 s-1", values: { _, _, _ in 1e-5 })
        try assertCleanFailure(p, mentions: "pr: unknown unit 'kg m-2 s-1'")
    }

    func testMismatchedMembersNameBothFiles() throws {
        let exe = try ensemblegenExecutable()
        let a = path("a.nc"), b = path("b.nc")
        try writeFieldFile(a, values: { _, _, _ in 280 })
        try writeFieldFile(b, values: { _, _, _ in 280 }, shape: (3, 4, 9))
        let r = try runProcess(exe, ["merge", "-q", a, b, "--output", path("out.nc")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: \(b): tas: grid 4×9"), r.stderr)
        XCTAssertTrue(r.stderr.contains(a), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["a.nc", "b.nc"])
    }

    /// A good merge through the binary: one-line summary, file readable.
    func testMergeAndInfoSucceedOnGoodInput() throws {
        let exe = try ensemblegenExecutable()
        let a = path("m1.nc"), b = path("m2.nc"), out = path("ens.nc")
        try writeFieldFile(a, units: "degC", values: { k, j, i in Float(k + j + i) })
        try writeFieldFile(b, units: "degC", values: { k, j, i in Float(k * j - i) })
        let r = try runProcess(exe, ["merge", "-q", a, b, "--output", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("wrote \(out): tas(realization=2, time=3, lat=4, lon=8)"), r.stdout)
        let info = try runProcess(exe, ["info", out])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("members    2: m1, m2"), info.stdout)
        XCTAssertTrue(info.stdout.contains("calendar   360_day"), info.stdout)
        XCTAssertTrue(info.stdout.contains("3 monthly steps"), info.stdout)
        let bad = try runProcess(exe, ["merge", a, "--output", path("bad.nc"), "--deflate-level", "10"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.hasPrefix("Error: --deflate-level must be 0–9, not 10"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("bad.nc")))
    }
}
