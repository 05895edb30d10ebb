import Climate
import Foundation
import NetCDF
import TestEnvironment
import XCTest

/// `compress` and `decompress` through the release binary, on a 3-member 32×64 ensemble of
/// 1850–1852 from `simulate` and regional and annual cuts of it. The error bound and the metadata are
/// checked by Scripts/check-error-bound.py (netCDF4 and numpy, not EnsembleGen's code).
final class CompressCommandTests: XCTestCase {
    static var directory: URL!
    override class func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("compress-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    override class func tearDown() { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { Self.directory.appendingPathComponent(name).path }

    @discardableResult
    func ensemblegen(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> ProcessOutput {
        let r = try runProcess(try releaseEnsemblegenExecutable(file: file, line: line), arguments)
        guard r.reason == .exit, r.status == 0 else {
            XCTFail("ensemblegen \(arguments.joined(separator: " ")) exited with \(r.status):\n\(r.stderr)", file: file, line: line)
            throw CocoaError(.executableLoad)
        }
        return r
    }

    /// Fails unless the command exits 1 with one `error:` line containing `message` and
    /// leaves no `output` (nor its partial) behind.
    func assertRefused(_ arguments: [String], message: String, output: String?, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try runProcess(try releaseEnsemblegenExecutable(file: file, line: line), arguments)
        XCTAssertEqual(r.reason, .exit, r.stderr, file: file, line: line)
        XCTAssertEqual(r.status, 1, "\(arguments): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(message),
                      "expected one error line with '\(message)', got:\n\(r.stderr)", file: file, line: line)
        if let output {
            XCTAssertFalse(FileManager.default.fileExists(atPath: output), file: file, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: output + ".partial"), file: file, line: line)
        }
    }

    /// Scripts/check-error-bound.py passes: within `bound` everywhere, metadata identical.
    func assertWithinBound(_ original: String, _ decompressed: String, bound: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let python = try validatorPython(importing: ["netCDF4", "numpy"], file: file, line: line)
        let script = repositoryRoot.appendingPathComponent("Scripts/check-error-bound.py").path
        let r = try runProcess(python, [script, original, decompressed, "tas", String(bound)])
        XCTAssertEqual(r.status, 0, "check-error-bound.py:\n\(r.stdout)\(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stdout.contains("metadata identical"), r.stdout, file: file, line: line)
    }

    /// A simulated 3-member ensemble, made once.
    func simulation() throws -> String {
        let file = path("sim.nc")
        if !FileManager.default.fileExists(atPath: file) {
            try ensemblegen(["simulate", "--members", "3", "--start", "1850", "--end", "1852", "--grid", "32x64", "--seed", "4",
                             "--quiet", "--output", file])
        }
        return file
    }

    func testRoundTripWithinBoundWithOriginalMetadata() throws {
        let original = try simulation()
        for bound in [0.01, 0.5] {
            let compressed = path("sim-\(bound).egc.nc"), decompressed = path("sim-\(bound).nc")
            let c = try ensemblegen(["compress", original, "--max-error", String(bound), "--quiet", "--output", compressed])
            XCTAssertTrue(c.stdout.contains("3 members × 36 time steps"), c.stdout)
            let values = 3 * 36 * 32 * 64
            let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: compressed)[.size] as? Int)
            // Smaller than the float32 values by more than deflate ever manages on these fields (62%).
            XCTAssertLessThan(Double(size), Double(values * 4) * (bound < 0.1 ? 0.4 : 0.15), "\(bound): \(size) bytes")
            let info = try ensemblegen(["info", compressed]).stdout
            for text in ["written by ensemblegen compress", "3 members × 36 time steps × 32 × 64 cells", "max error  \(bound) K at every value"] {
                XCTAssertTrue(info.contains(text), "'\(text)' missing from info:\n\(info)")
            }
            try ensemblegen(["decompress", compressed, "--quiet", "--output", decompressed])
            try assertWithinBound(original, decompressed, bound: bound)
        }
        let r = try runCheckCF(path("sim-0.5.nc"))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }

    /// A subset decodes to exactly the corresponding part of the whole, and the thread count
    /// changes nothing.
    func testSubsetAndThreadCountGiveTheSameValues() throws {
        let original = try simulation(), compressed = path("subset.egc.nc")
        try ensemblegen(["compress", original, "--max-error", "0.1", "--quiet", "--output", compressed])
        try ensemblegen(["decompress", compressed, "--threads", "2", "--quiet", "--output", path("whole-2.nc")])
        try ensemblegen(["decompress", compressed, "--threads", "1", "--quiet", "--output", path("whole-1.nc")])
        try ensemblegen(["decompress", compressed, "--members", "1-2", "--start", "1851", "--end", "1851", "--quiet", "--output", path("part.nc")])
        let whole2 = try EnsembleReader(path: path("whole-2.nc")), whole1 = try EnsembleReader(path: path("whole-1.nc"))
        let part = try EnsembleReader(path: path("part.nc"))
        XCTAssertEqual(part.memberCount, 2)
        XCTAssertEqual(part.time.count, 12)
        XCTAssertEqual(part.time.date(at: 0).year, 1851)
        XCTAssertEqual(part.members, Array(whole2.members[1...2]))
        for m in 0..<3 { XCTAssertEqual(try whole1.readMember(m), try whole2.readMember(m), "member \(m)") }
        for k in 0..<2 { XCTAssertEqual(try part.readMember(k), try whole2.readMember(k + 1, times: 12..<24), "member \(k + 1)") }
        let r = try runCheckCF(path("part.nc"))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }

    /// Latitudes north to south, longitudes −180…180 and degrees Celsius (made by CDO) come
    /// back as the file had them, within the bound.
    func testFlippedGridInCelsiusKeepsItsLayout() throws {
        let cdo = try validatorTool("cdo", debianPackage: "cdo")
        let celsius = path("celsius.nc")
        let r = try runProcess(cdo, ["-s", "-O", "-setattribute,tas@units=degC", "-subc,273.15", "-sellonlatbox,-180,180,-90,90",
                                     "-invertlat", try simulation(), celsius])
        XCTAssertEqual(r.status, 0, r.stderr)
        try ensemblegen(["compress", celsius, "--max-error", "0.05", "--quiet", "--output", path("celsius.egc.nc")])
        try ensemblegen(["decompress", path("celsius.egc.nc"), "--quiet", "--output", path("celsius-back.nc")])
        try assertWithinBound(celsius, path("celsius-back.nc"), bound: 0.05)
    }

    func testRefusals() throws {
        let original = try simulation(), compressed = path("refusals.egc.nc")
        // Eight EOFs, so that there are coefficient codes to damage.
        try ensemblegen(["compress", original, "--max-error", "0.2", "--modes", "8", "--quiet", "--output", compressed])
        // A bound below float32's resolution, and an existing output.
        try assertRefused(["compress", original, "--max-error", "0.00001", "--quiet", "--output", path("y.nc")],
                          message: "below float32's resolution", output: path("y.nc"))
        // Missing values: compress needs complete fields; nothing is written.
        let python = try validatorPython(importing: ["netCDF4"])
        let gappy = path("gappy.nc")
        try FileManager.default.copyItem(atPath: original, toPath: gappy)
        let gap = try runProcess(python, ["-c", """
            import netCDF4, sys
            f = netCDF4.Dataset(sys.argv[1], 'a'); f['tas'][5, 1, 10, 20] = 1e20; f.close()
            """, gappy])
        XCTAssertEqual(gap.status, 0, gap.stderr)
        try assertRefused(["compress", gappy, "--max-error", "0.2", "--quiet", "--output", path("v.nc")],
                          message: "missing values", output: path("v.nc"))
        // A file that is not a compressed ensemble.
        try assertRefused(["decompress", original, "--output", path("z.nc")], message: "not a file written by `ensemblegen compress`", output: path("z.nc"))
        // Damage: one value changed in the code streams, the basis, the means or a member's
        // predictor weights (the last three decode without a stream error: the side
        // information's SHA-256 catches them).
        // The stream's first byte belongs to the first field's coefficient codes, its middle
        // to some field's residual codes.
        for (variable, position) in [("egc_stream", "0"), ("egc_stream", "0.5"), ("egc_basis", "0.5"), ("egc_mean", "0.5"), ("egc_predictor", "0.5")] {
            let damaged = path("damaged-\(variable)-\(position).egc.nc"), output = path("damaged-\(variable)-\(position).nc")
            try FileManager.default.copyItem(atPath: compressed, toPath: damaged)
            let edit = try runProcess(python, ["-c", """
                import netCDF4, sys
                f = netCDF4.Dataset(sys.argv[1], 'a'); v = f[sys.argv[2]]; a = v[:]; k = int(a.size * float(sys.argv[3]))
                a.flat[k] = a.flat[k] + 0.25 if a.dtype.kind == 'f' else (int(a.flat[k]) + 77) % 256
                v[:] = a; f.close()
                """, damaged, variable, position])
            XCTAssertEqual(edit.status, 0, edit.stderr)
            try assertRefused(["decompress", damaged, "--quiet", "--output", output], message: "damaged", output: output)
        }
    }

    /// Any grid and annual data: a regional box (not global) of annual means, with the
    /// searched basis and without EOFs.
    func testRegionalAnnualDataWithAndWithoutEOFs() throws {
        let cdo = try validatorTool("cdo", debianPackage: "cdo")
        let region = path("region.nc")
        let r = try runProcess(cdo, ["-s", "-O", "-yearmean", "-sellonlatbox,100,300,-40,40", try simulation(), region])
        XCTAssertEqual(r.status, 0, r.stderr)
        for modes in [nil, "0"] as [String?] {
            let compressed = path("region-\(modes ?? "searched").egc.nc"), back = path("region-\(modes ?? "searched").nc")
            try ensemblegen(["compress", region, "--max-error", "0.02", "--quiet", "--output", compressed] + (modes.map { ["--modes", $0] } ?? []))
            try ensemblegen(["decompress", compressed, "--quiet", "--output", back])
            try assertWithinBound(region, back, bound: 0.02)
        }
    }
}
