import Foundation
import XCTest

// What tests need from outside the package: the Python validator environment (.venv), the
// validator tools, the CF tables, the shared data and the release binary. Each need has one
// helper here, and every helper decides "missing" the same way (`missingPrerequisite`):
// a skip with the reason on a developer machine, a failure with the same reason in CI
// (`.ci/run` sets ENSEMBLEGEN_CI=1), so CI cannot pass by skipping.

/// The repository root, from this file's path (Tests/TestEnvironment/TestEnvironment.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// True when the tests run in CI (`.ci/run` sets ENSEMBLEGEN_CI=1): there, a missing tool,
/// validator or data set fails the test instead of skipping it.
public let runningInCI = ProcessInfo.processInfo.environment["ENSEMBLEGEN_CI"] == "1"

/// Thrown in CI after the failure is recorded, to stop the test.
public struct MissingPrerequisite: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "missing prerequisite (ENSEMBLEGEN_CI=1): \(reason)" }
}

/// The error to throw when something a test needs is absent: `XCTSkip(reason)`, or in CI a
/// recorded failure (at the caller's line) with the same reason.
public func missingPrerequisite(_ reason: String, file: StaticString = #filePath, line: UInt = #line) -> Error {
    guard runningInCI else { return XCTSkip(reason, file: file, line: line) }
    XCTFail("\(reason) (ENSEMBLEGEN_CI=1: required in CI, not skipped)", file: file, line: line)
    return MissingPrerequisite(reason: reason)
}

// MARK: - Processes

/// Result of running a process.
public struct ProcessOutput {
    public var status: Int32
    public var reason: Process.TerminationReason
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments`, capturing both streams. `environment` entries are
/// added to (or replace) this process's environment; `directory` is the working directory.
public func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                       directory: URL? = nil) throws -> ProcessOutput {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    if let e = environment { p.environment = ProcessInfo.processInfo.environment.merging(e) { $1 } }
    if let d = directory { p.currentDirectoryURL = d }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Drain stderr on its own thread and stdout here, so neither full pipe can block the child.
    let errorData = ErrorBuffer()
    let reader = Thread { errorData.data = err.fileHandleForReading.readDataToEndOfFile(); errorData.done.signal() }
    reader.start()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    errorData.done.wait()
    p.waitUntilExit()
    return ProcessOutput(status: p.terminationStatus, reason: p.terminationReason,
                         stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: errorData.data, as: UTF8.self))
}

private final class ErrorBuffer: @unchecked Sendable {
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}

// MARK: - One helper per need

/// The Python of the validator environment (`<repo>/.venv`, made by Scripts/setup.sh), after
/// checking that `modules` import.
public func validatorPython(importing modules: [String] = [], file: StaticString = #filePath,
                            line: UInt = #line) throws -> URL {
    let python = repositoryRoot.appendingPathComponent(".venv/bin/python")
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
        throw missingPrerequisite("no Python validator environment at \(python.path): run Scripts/setup.sh", file: file, line: line)
    }
    if !modules.isEmpty {
        let r = try runProcess(python, ["-c", "import " + modules.joined(separator: ", ")])
        if r.status != 0 {
            let detail = r.stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(r.status)"
            throw missingPrerequisite("Python \(modules.joined(separator: ", ")) not importable in .venv (\(detail)): rerun Scripts/setup.sh",
                                      file: file, line: line)
        }
    }
    return python
}

/// A validator command-line tool (ncgen, cdo, ncks, ...) found on PATH.
public func validatorTool(_ name: String, debianPackage: String, file: StaticString = #filePath,
                          line: UInt = #line) throws -> URL {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw missingPrerequisite("\(name) not installed (Debian package \(debianPackage); Scripts/setup.sh installs it)", file: file, line: line)
}

/// Files of the shared test data, `<repo>/../shared/data/<relativePath>` (not in the repository).
public func sharedData(_ relativePaths: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [URL] {
    let data = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    let urls = relativePaths.map { data.appendingPathComponent($0) }
    let missing = urls.filter { !FileManager.default.fileExists(atPath: $0.path) }
    guard missing.isEmpty else {
        throw missingPrerequisite("shared test data not found: \(missing.map(\.path).joined(separator: ", ")) (expected in <repo>/../shared/data)",
                                  file: file, line: line)
    }
    return urls
}

/// Runs Scripts/check-cf.sh on `files`. The script exits 77 when it cannot check (the CF
/// tables, .venv with cfchecks/xarray/netCDF4, cdo or ncks missing): a missing prerequisite.
public func runCheckCF(_ files: String..., environment: [String: String]? = nil,
                       file: StaticString = #filePath, line: UInt = #line) throws -> ProcessOutput {
    let script = repositoryRoot.appendingPathComponent("Scripts/check-cf.sh")
    let r = try runProcess(URL(fileURLWithPath: "/bin/bash"), [script.path] + files, environment: environment)
    if r.status == 77 {
        throw missingPrerequisite("check-cf.sh skipped: \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))", file: file, line: line)
    }
    return r
}

/// The release build of `ensemblegen` (`swift build -c release --product ensemblegen`, run by
/// Scripts/test.sh): what users run, with `-Ounchecked`, so input checks that rely on
/// `precondition` would be missing here.
public func releaseEnsemblegenExecutable(file: StaticString = #filePath, line: UInt = #line) throws -> URL {
    let url = repositoryRoot.appendingPathComponent(".build/release/ensemblegen")
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        throw missingPrerequisite("no release build at \(url.path): run `swift build -c release --product ensemblegen` (Scripts/test.sh does)",
                                  file: file, line: line)
    }
    return url
}
