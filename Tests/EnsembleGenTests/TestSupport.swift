import Foundation
import XCTest
import NetCDF
import Climate

/// The repository root, from this file's path (Tests/EnsembleGenTests/TestSupport.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Result of running a process.
struct ProcessOutput {
    var status: Int32
    var reason: Process.TerminationReason
    var stdout: String
    var stderr: String
}

/// Runs `executable` with `arguments`, capturing both streams.
func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessOutput {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    if let e = environment { p.environment = ProcessInfo.processInfo.environment.merging(e) { $1 } }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read before waiting so a full pipe cannot block the child.
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ProcessOutput(status: p.terminationStatus, reason: p.terminationReason,
                         stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// The built `ensemblegen` executable next to the test bundle.
func ensemblegenExecutable() throws -> URL {
    var candidates = [Bundle.main.bundleURL.appendingPathComponent("ensemblegen")]
    for b in Bundle.allBundles { candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("ensemblegen")) }
    candidates.append(repositoryRoot.appendingPathComponent(".build/debug/ensemblegen"))
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        XCTFail("the ensemblegen executable was not built (looked in \(candidates.map(\.path))); run `swift build` first")
        throw CocoaError(.fileNoSuchFile)
    }
    return found
}

/// Writes a small (time, lat, lon) field file with the NetCDF module.
/// - Parameters:
///   - units: the data variable's units attribute (nil: none).
///   - withCoordinates: false leaves out latitude/longitude so no gridded field exists.
func writeFieldFile(_ path: String, variable: String = "tas", units: String? = "K", values: (Int, Int, Int) -> Float,
                    shape: (Int, Int, Int) = (3, 4, 8), withCoordinates: Bool = true) throws {
    let (nt, ny, nx) = shape
    let f = try NetCDFFile.create(path, overwrite: true)
    let t = try f.addDimension("time", length: nt)
    let y = try f.addDimension("lat", length: ny)
    let x = try f.addDimension("lon", length: nx)
    let time = try f.addVariable("time", type: .double, dimensions: [t])
    try time.setAttribute("units", "days since 2000-01-01")
    try time.setAttribute("calendar", "360_day")
    if withCoordinates {
        let lat = try f.addVariable("lat", type: .double, dimensions: [y])
        try lat.setAttribute("units", "degrees_north")
        let lon = try f.addVariable("lon", type: .double, dimensions: [x])
        try lon.setAttribute("units", "degrees_east")
        try lat.write(Grid.regular(latitudeCount: ny, longitudeCount: nx).latitudes)
        try lon.write(Grid.regular(latitudeCount: ny, longitudeCount: nx).longitudes)
    }
    let v = try f.addVariable(variable, type: .float, dimensions: [t, y, x])
    if let u = units { try v.setAttribute("units", .text(u)) }
    try time.write((0..<nt).map { 15 + 30 * Double($0) })
    var data: [Float] = []
    for k in 0..<nt { for j in 0..<ny { for i in 0..<nx { data.append(values(k, j, i)) } } }
    try v.write(data)
    try f.close()
}

/// True when the tests run in CI (`.ci/run` sets ENSEMBLEGEN_CI=1): there, a missing tool,
/// validator or data set fails the test instead of skipping it.
let runningInCI = ProcessInfo.processInfo.environment["ENSEMBLEGEN_CI"] == "1"

/// The release build of `ensemblegen` (`swift build -c release --product ensemblegen`, run by
/// Scripts/test.sh): what users run, with `-Ounchecked`, so input checks that rely on
/// `precondition` would be missing here. Skips when absent, except in CI.
func releaseEnsemblegenExecutable() throws -> URL {
    let url = repositoryRoot.appendingPathComponent(".build/release/ensemblegen")
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        let reason = "no release build at \(url.path): run `swift build -c release --product ensemblegen` (Scripts/test.sh does)"
        if runningInCI { XCTFail(reason); throw CocoaError(.fileNoSuchFile) }
        throw XCTSkip(reason)
    }
    return url
}
