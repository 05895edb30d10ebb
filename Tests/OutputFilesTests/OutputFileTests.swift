import Foundation
import XCTest
@testable import OutputFiles
#if canImport(Glibc)
import Glibc
#endif

/// The destination checks, the exclusive partial file, commit and abandon.
final class OutputFileTests: XCTestCase {
    var directory: String!
    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("output-files-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws {
        chmod(directory, 0o755)
        try? FileManager.default.removeItem(atPath: directory)
    }
    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    func assertRefused(_ output: String, inputs: [String] = [], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try OutputFile(path: output, inputs: inputs), file: file, line: line) { error in
            XCTAssertEqual("\(error)", message, file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + ".partial") && !message.contains(".partial exists"),
                       "partial left", file: file, line: line)
    }

    func testWriteCommitReplacesRegularFile() throws {
        let out = path("a.bin")
        try Data("old".utf8).write(to: URL(fileURLWithPath: out))
        let file = try OutputFile(path: out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: file.partialPath))
        try file.write(Data("new".utf8))
        try file.commit()
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "new")
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.partialPath))
    }

    func testReleasedWithoutCommitLeavesNothing() throws {
        let out = path("b.bin")
        do {
            let file = try OutputFile(path: out)
            try file.write(Data("x".utf8))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }

    func testEmptyPath() {
        assertRefused("", "the output path is empty; give a file name")
    }

    func testDirectory() throws {
        let out = path("dir")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try Data().write(to: URL(fileURLWithPath: out + "/keep"))
        assertRefused(out, "\(out): is a directory; give a file name")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), ["keep"])
    }

    func testDeviceAndFIFO() throws {
        assertRefused("/dev/null", "/dev/null: not a regular file (a device, FIFO or socket); choose another output")
        let fifo = path("fifo")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        assertRefused(fifo, "\(fifo): not a regular file (a device, FIFO or socket); choose another output")
    }

    func testMissingParent() {
        let out = path("missing/out.nc")
        assertRefused(out, "\(out): directory \(path("missing")) does not exist; create it first")
    }

    func testUnwritableParent() throws {
        guard getuid() != 0 else { throw XCTSkip("root may write anywhere") }
        chmod(directory, 0o555)
        let out = path("x.nc")
        assertRefused(out, "\(out): permission denied: cannot create files in directory \(directory!)")
    }

    func testSameAsInput() throws {
        let input = path("in.nc")
        try Data("data".utf8).write(to: URL(fileURLWithPath: input))
        let link = path("link.nc")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: input)
        let hard = path("hard.nc")
        XCTAssertEqual(Glibc.link(input, hard), 0)
        assertRefused(input, inputs: [input], "\(input): is also an input; choose another output file")
        assertRefused(input, inputs: [link], "\(input): is also an input (\(link)); choose another output file")
        assertRefused(hard, inputs: [input], "\(hard): is also an input (\(input)); choose another output file")
        assertRefused(path("./in.nc"), inputs: [input], "\(path("./in.nc")): is also an input (\(input)); choose another output file")
        XCTAssertEqual(try String(contentsOfFile: input, encoding: .utf8), "data")
    }

    func testExistingPartialIsNeverTouched() throws {
        let out = path("c.nc")
        try Data("theirs".utf8).write(to: URL(fileURLWithPath: out + ".partial"))
        let message = "\(out).partial exists: another run is writing \(out) (or a killed run left it; delete it if no run is writing)"
        assertRefused(out, message)
        XCTAssertEqual(try String(contentsOfFile: out + ".partial", encoding: .utf8), "theirs")
    }

    func testAbandonSparesAPartialThatIsNoLongerOurs() throws {
        let out = path("d.nc")
        let file = try OutputFile(path: out)
        unlink(file.partialPath)
        try Data("theirs".utf8).write(to: URL(fileURLWithPath: file.partialPath))
        XCTAssertThrowsError(try file.commit())
        XCTAssertEqual(try String(contentsOfFile: out + ".partial", encoding: .utf8), "theirs")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testCommitRefusesADestinationThatBecameADirectory() throws {
        let out = path("e.nc")
        let file = try OutputFile(path: out)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        XCTAssertThrowsError(try file.commit()) { XCTAssertEqual("\($0)", "\(out): is a directory; give a file name") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.partialPath))
    }

    func testParentDirectory() {
        XCTAssertEqual(OutputFile.parentDirectory("a.nc"), ".")
        XCTAssertEqual(OutputFile.parentDirectory("/a.nc"), "/")
        XCTAssertEqual(OutputFile.parentDirectory("x/y/a.nc"), "x/y")
        XCTAssertEqual(OutputFile.parentDirectory("x/y/"), "x")
    }

    func testDiskFullMessage() {
        let message = OutputFile.diskFull(path("f.nc")).message
        XCTAssertTrue(message.hasPrefix("\(path("f.nc")): disk full ("), message)
        XCTAssertTrue(message.hasSuffix("); free space or choose another output"), message)
        XCTAssertEqual(OutputFile.failure(path: "x", errno: ENOSPC), OutputFile.diskFull("x"))
    }

    func testFoundationErrorsBecomePlainText() {
        let error = CocoaError(.fileWriteFileExists, userInfo: [NSFilePathErrorKey: "/tmp/x"])
        XCTAssertEqual(FileErrorText.describe(error), "/tmp/x: already exists")
        let posix = NSError(domain: NSCocoaErrorDomain, code: 640, userInfo: [
            NSFilePathErrorKey: "/tmp/y", NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC))])
        XCTAssertTrue(FileErrorText.describe(posix)?.hasPrefix("/tmp/y: disk full (") ?? false)
        XCTAssertNil(FileErrorText.describe(OutputError(path: "a", "b")))
    }
}

/// Model and report directories: refused when not directories, rolled back on failure.
final class OutputDirectoryTests: XCTestCase {
    var root: String!
    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("output-dir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func testExistingFileRefused() throws {
        let p = root + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: p))
        XCTAssertThrowsError(try OutputDirectory(path: p)) {
            XCTAssertEqual("\($0)", "\(p): exists and is not a directory; give a directory name")
        }
    }

    func testUnderAFile() throws {
        let p = root + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: p))
        XCTAssertThrowsError(try OutputDirectory(path: p + "/sub/dir")) {
            XCTAssertEqual("\($0)", "\(p)/sub/dir: a part of the path is not a directory")
        }
    }

    func testRollbackRemovesOnlyWhatThisRunCreated() throws {
        let existing = root + "/model"
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false)
        try Data("before".utf8).write(to: URL(fileURLWithPath: existing + "/old.safetensors"))
        let d = try OutputDirectory(path: existing)
        try d.create()
        try OutputFile.write(Data("new".utf8), to: d.file("new.safetensors"))
        try OutputFile.write(Data("again".utf8), to: d.file("old.safetensors"))
        d.rollback()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: existing), ["old.safetensors"])

        let fresh = root + "/a/b/model"
        let e = try OutputDirectory(path: fresh)
        try e.create()
        try OutputFile.write(Data("new".utf8), to: e.file("x"))
        e.rollback()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["model"])
    }
}
