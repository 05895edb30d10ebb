import Foundation
import TestEnvironment
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Hostile outputs given to the release binary: nothing is lost or overwritten and nothing
/// half-built is left. Every refusal is exit 1 with exactly one line `error: <path>: …`,
/// inputs byte-identical, no partial file, another run's partial untouched.
final class OutputSafetyTests: TemporaryDirectoryTestCase {

    /// A 4-member 16x32 ensemble, a small VAE and model, made once for all tests.
    static var fixtures: URL?
    static func makeFixtures(_ exe: URL) throws -> URL {
        if let f = fixtures { return f }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("output-safety-fixtures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = { (n: String) in dir.appendingPathComponent(n).path }
        for args in [["simulate", "-q", "--members", "4", "--start", "2000", "--end", "2004", "--grid", "16x32", "-o", p("ens.nc")],
                     ["train-vae", "-q", "--data", p("ens.nc"), "--epochs", "1", "--channels", "8,16", "--batch-size", "8",
                      "-o", p("vae.safetensors")],
                     ["train-diffusion", "-q", "--vae", p("vae.safetensors"), "--data", p("ens.nc"), "--epochs", "1",
                      "--steps-per-epoch", "3", "--batch-size", "4", "--width", "16", "--layers", "1", "-o", p("model")]] {
            let r = try runProcess(exe, args)
            guard r.status == 0 else { throw XCTSkip("fixture \(args[0]) failed: \(r.stderr)") }
        }
        fixtures = dir
        return dir
    }
    override class func tearDown() {
        if let f = fixtures { try? FileManager.default.removeItem(at: f) }
        fixtures = nil
    }

    var exe: URL!
    var fixtures: URL!
    override func setUpWithError() throws {
        exe = try releaseEnsemblegenExecutable()
        fixtures = try Self.makeFixtures(exe)
        try super.setUpWithError()
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("ens.nc").path, toPath: path("ens.nc"))
    }

    var model: String { fixtures.appendingPathComponent("model").path }
    var vae: String { fixtures.appendingPathComponent("vae.safetensors").path }

    /// Every regular file under `root` with its bytes (to compare before and after).
    func snapshot(_ root: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        guard let e = FileManager.default.enumerator(atPath: root) else { return result }
        for case let name as String in e {
            let full = (root as NSString).appendingPathComponent(name)
            var s = stat()
            guard lstat(full, &s) == 0 else { continue }
            result[name] = (s.st_mode & S_IFMT) == S_IFREG ? try Data(contentsOf: URL(fileURLWithPath: full)) : Data("<not a regular file>".utf8)
        }
        return result
    }

    /// Runs `args`, expecting exit 1 and the single line `error: <message>`; the test
    /// directory and the fixtures are unchanged.
    /// `user`: run the binary as this user (through runuser).
    func assertRefused(_ args: [String], message: String, user: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try snapshot(directory.path), fixturesBefore = try snapshot(fixtures.path)
        let r = try user.map { try runProcess(Self.runuser, ["-u", $0, "--", exe.path] + args) } ?? runProcess(exe, args)
        XCTAssertEqual(r.reason, .exit, "\(args): killed by a signal: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.status, 1, "\(args): exit status", file: file, line: line)
        XCTAssertEqual(r.stderr, "error: \(message)\n", "\(args)", file: file, line: line)
        XCTAssertEqual(try snapshot(directory.path), before, "\(args): files changed", file: file, line: line)
        XCTAssertEqual(try snapshot(fixtures.path), fixturesBefore, "\(args): fixtures changed", file: file, line: line)
    }

    func testTrainVAERefusesAnExistingDirectory() throws {
        let out = path("d1")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: out + "/keep.txt"))
        try assertRefused(["train-vae", "-q", "--data", path("ens.nc"), "--epochs", "1", "--channels", "8,16", "-o", out],
                          message: "\(out): is a directory; give a file name")
    }

    func testOutputThatIsAlsoAnInputIsRefused() throws {
        let x = path("ens.nc")
        let also = "\(x): is also an input; choose another output file"
        try assertRefused(["generate", "-q", "--model", model, "--members", "1", "--conditioning", x, "-o", x], message: also)
        try assertRefused(["baseline", "-q", "--training", x, "--members", "1", "-o", x], message: also)
        try assertRefused(["reconstruct", "-q", "--model", vae, "--data", x, "-o", x], message: also)
        try assertRefused(["merge", "-q", x, "-o", x], message: also)
        try assertRefused(["train-vae", "-q", "--data", x, "--epochs", "1", "--channels", "8,16", "-o", x], message: also)
        // The same file under another name: a symbolic link, a hard link, a relative path.
        let link = path("link.nc"), hard = path("hard.nc")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: x)
        XCTAssertEqual(Glibc.link(x, hard), 0)
        try assertRefused(["merge", "-q", link, "-o", x], message: "\(x): is also an input (\(link)); choose another output file")
        try assertRefused(["merge", "-q", x, "-o", hard], message: "\(hard): is also an input (\(x)); choose another output file")
        try assertRefused(["generate", "-q", "--model", model, "--members", "1", "-o", model + "/vae.safetensors"],
                          message: "\(model)/vae.safetensors: is also an input; choose another output file")
    }

    func testDevicesAndFIFOsAreNeverReplaced() throws {
        let fifo = path("fifo")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        var targets = [fifo]
        // As root, a character device like /dev/full (1, 7; made here, so a regression cannot replace the real one).
        let device = path("full")
        if mknod(device, S_IFCHR | 0o666, (1 << 8) | 7) == 0 { targets.append(device) }
        for target in targets {
            let message = "\(target): not a regular file (a device, FIFO or socket); choose another output"
            try assertRefused(["merge", "-q", path("ens.nc"), "-o", target], message: message)
            try assertRefused(["baseline", "-q", "--training", path("ens.nc"), "--members", "1", "-o", target], message: message)
        }
    }

    func testAnotherRunsPartialIsLeftAlone() throws {
        let out = path("two.nc")
        try Data("the other run".utf8).write(to: URL(fileURLWithPath: out + ".partial"))
        let message = "\(out).partial exists: another run is writing \(out) (or a killed run left it; delete it if no run is writing)"
        try assertRefused(["generate", "-q", "--model", model, "--members", "1", "-o", out], message: message)
        try assertRefused(["merge", "-q", path("ens.nc"), "-o", out], message: message)
        XCTAssertEqual(try String(contentsOfFile: out + ".partial", encoding: .utf8), "the other run")
    }

    func testMissingDirectoryEmptyPathAndRegularFileForADirectory() throws {
        let out = path("missing/out.nc")
        try assertRefused(["merge", "-q", path("ens.nc"), "-o", out],
                          message: "\(out): directory \(path("missing")) does not exist; create it first")
        // An empty name is an option error, refused before any file is opened.
        let empty = try runProcess(try releaseEnsemblegenExecutable(), ["merge", "-q", path("ens.nc"), "-o", ""])
        XCTAssertEqual(empty.status, 64)
        XCTAssertTrue(empty.stderr.hasPrefix("Error: --output needs a file name, not an empty text"), empty.stderr)
        let file = path("report")
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: file))
        try assertRefused(["diagnose", path("ens.nc"), "-o", file], message: "\(file): exists and is not a directory; give a directory name")
        try assertRefused(["evaluate", "--baseline", path("ens.nc"), "--reference", path("ens.nc"), "-o", file],
                          message: "\(file): exists and is not a directory; give a directory name")
        try assertRefused(["train-diffusion", "-q", "--vae", vae, "--data", path("ens.nc"), "-o", file],
                          message: "\(file): exists and is not a directory; give a directory name")
    }

    func testFailedDiffusionTrainingLeavesNoHalfBuiltModel() throws {
        // Bad options: refused before the directory is made.
        let fresh = path("fresh/model")
        let r1 = try runProcess(exe, ["train-diffusion", "-q", "--vae", vae, "--data", path("ens.nc"),
                                      "--conditioning-member", "9", "-o", fresh])
        XCTAssertEqual(r1.status, 1, r1.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("fresh")))
        // A failure after the directory was made (no state to resume): what the run made is removed.
        let r2 = try runProcess(exe, ["train-diffusion", "-q", "--vae", vae, "--data", path("ens.nc"), "--resume",
                                      "--width", "16", "--layers", "1", "-o", fresh])
        XCTAssertEqual(r2.status, 1, r2.stderr)
        XCTAssertTrue(r2.stderr.contains("no training state to resume"), r2.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("fresh")))
        // An existing directory keeps exactly what it had.
        let existing = path("existing")
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: existing + "/notes.txt"))
        let r3 = try runProcess(exe, ["train-diffusion", "-q", "--vae", vae, "--data", path("ens.nc"), "--resume",
                                      "--width", "16", "--layers", "1", "-o", existing])
        XCTAssertEqual(r3.status, 1, r3.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: existing), ["notes.txt"])
    }

    static let runuser = URL(fileURLWithPath: "/usr/sbin/runuser")

    /// A directory the user may not write to (run as `nobody` through runuser; root only).
    func testUnwritableDirectoryIsPermissionDenied() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: Self.runuser.path) else {
            throw XCTSkip("needs root and runuser to run the binary as another user")
        }
        let locked = path("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o555])
        chmod(directory.path, 0o755)
        chmod(path("ens.nc"), 0o644)
        let out = locked + "/out.nc"
        try assertRefused(["merge", "-q", path("ens.nc"), "-o", out],
                          message: "\(out): permission denied: cannot create files in directory \(locked)", user: "nobody")
    }

    /// A read-only file system (root only): refused before any work, named as such.
    func testReadOnlyFileSystem() throws {
        let mountPoint = path("ro")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let mounted = try runProcess(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "ro,size=100k", "tmpfs", mountPoint])
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a read-only tmpfs (needs root): \(mounted.stderr)") }
        defer { _ = try? runProcess(URL(fileURLWithPath: "/bin/umount"), [mountPoint]) }
        let readOnly = "\(mountPoint) is on a read-only file system; choose another output"
        try assertRefused(["merge", "-q", path("ens.nc"), "-o", mountPoint + "/m.nc"], message: "\(mountPoint)/m.nc: \(readOnly)")
        try assertRefused(["train-vae", "-q", "--data", path("ens.nc"), "--epochs", "1", "--channels", "8,16", "-o", mountPoint + "/v.safetensors"],
                          message: "\(mountPoint)/v.safetensors: \(readOnly)")
        try assertRefused(["diagnose", path("ens.nc"), "-o", mountPoint + "/report"], message: "\(mountPoint)/report: \(readOnly)")
        try assertRefused(["train-diffusion", "-q", "--vae", vae, "--data", path("ens.nc"), "-o", mountPoint + "/model"],
                          message: "\(mountPoint)/model: \(readOnly)")
    }

    /// A full disk: a 200 KiB tmpfs (root only; skipped where mounting is not permitted).
    func testFullDiskIsReportedCleanly() throws {
        let mountPoint = path("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let mounted = try runProcess(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=200k", "tmpfs", mountPoint])
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a small tmpfs (needs root): \(mounted.stderr)") }
        defer { _ = try? runProcess(URL(fileURLWithPath: "/bin/umount"), [mountPoint]) }
        // 4 members of 60 months on 16x32 are ~480 KiB of noisy floats: more than fits.
        let runs: [(String, [String])] = [
            ("merge.nc", ["merge", "-q", path("ens.nc"), "-o"]),
            ("baseline.nc", ["baseline", "-q", "--training", path("ens.nc"), "--members", "4", "-o"]),
            ("vae.safetensors", ["train-vae", "-q", "--data", path("ens.nc"), "--epochs", "1", "--channels", "64,128", "-o"]),
        ]
        for (name, args) in runs {
            let out = mountPoint + "/" + name
            let r = try runProcess(exe, args + [out])
            XCTAssertEqual(r.reason, .exit, "\(name): killed by a signal: \(r.stderr)")
            XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("error: \(out): disk full ("), r.stderr)
            XCTAssertTrue(r.stderr.contains("MiB free on \(mountPoint)); free space or choose another output"), r.stderr)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mountPoint), [], "\(name): files left")
        }
    }
}
