import Climate
import Foundation
import NetCDF
import TestEnvironment
import XCTest

/// Every command end to end through the release binary (what users run, `-Ounchecked`) on
/// tiny data: a 6-member 16×32 ensemble of 1850–1853 from `simulate`, a VAE of one epoch,
/// an autoregressive generator of five optimiser steps. Each test checks the exit status,
/// the files written, `info` on them, that the figures printed are finite numbers in a
/// plausible range, and Scripts/check-cf.sh on the NetCDF outputs. The shipped model
/// (Data/default) is loaded and used for a short generation too.
///
/// The trained files are made once per run (`fixture`), by whichever test needs them first;
/// tests that change a model work on a copy.
final class EndToEndCommandTests: XCTestCase {
    static var directory: URL!
    private static var fixtures: [String: Result<String, Error>] = [:]

    override class func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("end-to-end-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        fixtures = [:]
    }
    override class func tearDown() { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { Self.directory.appendingPathComponent(name).path }

    // MARK: - Running the binary

    struct CommandFailed: Error, CustomStringConvertible { var description: String }

    /// Runs the release `ensemblegen`; records a failure and throws unless it exits 0 with no
    /// error message and no non-finite number on stdout.
    @discardableResult
    func ensemblegen(_ arguments: [String], in directory: URL? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws -> ProcessOutput {
        let exe = try releaseEnsemblegenExecutable(file: file, line: line)
        let command = "ensemblegen " + arguments.joined(separator: " ")
        let r = try runProcess(exe, arguments, directory: directory)
        guard r.reason == .exit, r.status == 0 else {
            XCTFail("\(command) exited with \(r.status) (\(r.reason == .exit ? "exit" : "signal")):\n\(r.stderr)", file: file, line: line)
            throw CommandFailed(description: "\(command) failed")
        }
        XCTAssertFalse(r.stderr.contains("error"), "\(command) reported an error:\n\(r.stderr)", file: file, line: line)
        XCTAssertNil(nonFiniteNumber(in: r.stdout), "\(command) printed a non-finite number:\n\(r.stdout)", file: file, line: line)
        return r
    }

    /// `info FILE` succeeds and prints each of `expected`.
    func assertInfo(_ file: String, shows expected: [String], sourceFile: StaticString = #filePath, line: UInt = #line) throws {
        let r = try ensemblegen(["info", file], file: sourceFile, line: line)
        for text in expected {
            XCTAssertTrue(r.stdout.contains(text), "'\(text)' missing from `info \(file)`:\n\(r.stdout)", file: sourceFile, line: line)
        }
    }

    /// Scripts/check-cf.sh passes on `files` (cfchecks, xarray, cdo, ncks).
    func assertCFValid(_ files: String..., file: StaticString = #filePath, line: UInt = #line) throws {
        for f in files {
            let r = try runCheckCF(f, file: file, line: line)
            XCTAssertEqual(r.status, 0, "check-cf.sh \(f):\n\(r.stdout)\(r.stderr)", file: file, line: line)
            XCTAssertTrue(r.stdout.contains("cfchecks: 0 errors, 0 warnings"), r.stdout, file: file, line: line)
        }
    }

    /// The file's members, time steps and grid, and every value a finite temperature in kelvin.
    @discardableResult
    func assertEnsemble(_ file: String, members: Int, months: Int, grid: (Int, Int),
                        sourceFile: StaticString = #filePath, line: UInt = #line) throws -> [[Float]] {
        let reader = try EnsembleReader(path: file)
        defer { try? reader.close() }
        XCTAssertEqual(reader.memberCount, members, file, file: sourceFile, line: line)
        XCTAssertEqual(reader.time.count, months, file, file: sourceFile, line: line)
        XCTAssertEqual(reader.grid.latitudeCount, grid.0, file, file: sourceFile, line: line)
        XCTAssertEqual(reader.grid.longitudeCount, grid.1, file, file: sourceFile, line: line)
        let values = try (0..<reader.memberCount).map { try reader.readMember($0) }
        for (m, v) in values.enumerated() {
            let bad = v.filter { !$0.isFinite || $0 < 150 || $0 > 350 }
            XCTAssertTrue(bad.isEmpty, "\(file) member \(m): \(bad.count) values not finite temperatures in K, e.g. \(bad.prefix(3))",
                          file: sourceFile, line: line)
        }
        return values
    }

    /// The number printed right after `label` (nil when absent or not a number).
    func figure(after label: String, in text: String) -> Double? {
        text.range(of: label).flatMap { leadingNumber(text[$0.upperBound...]) }
    }

    /// The number at the start of `text`, after spaces and a colon ("nan" and "inf" included).
    func leadingNumber(_ text: Substring) -> Double? {
        let token = text.drop { $0 == " " || $0 == ":" }.prefix { $0.isNumber || "+-.eEnaifNAIF".contains($0) }
        return Double(String(token))
    }

    /// Asserts that the figure after `label` is printed, finite and in `range`.
    @discardableResult
    func assertFigure(_ label: String, in text: String, within range: ClosedRange<Double>,
                      file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let value = try XCTUnwrap(figure(after: label, in: text), "no number after '\(label)' in:\n\(text)", file: file, line: line)
        XCTAssertTrue(value.isFinite, "'\(label)' \(value) is not finite", file: file, line: line)
        XCTAssertTrue(range.contains(value), "'\(label)' \(value) outside \(range)", file: file, line: line)
        return value
    }

    /// "nan"/"inf" printed as a word, if any.
    func nonFiniteNumber(in text: String) -> String? {
        text.range(of: #"(?i)(?<![A-Za-z])[-+]?(nan|inf|infinity)(?![A-Za-z])"#, options: .regularExpression).map { String(text[$0]) }
    }

    /// report.json parses, and every number in it is finite (no null in place of one).
    func assertReport(_ directory: String, minimumFigures: Int, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let url = URL(fileURLWithPath: directory)
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.appendingPathComponent("report.md").path), "no report.md", file: file, line: line)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("report.json")))
        var numbers = 0, nulls: [String] = [], nonFinite: [String] = []
        func walk(_ value: Any, _ key: String) {
            switch value {
            case let d as [String: Any]: for (k, v) in d { walk(v, key + "." + k) }
            case let a as [Any]: for (i, v) in a.enumerated() { walk(v, "\(key)[\(i)]") }
            case is NSNull: nulls.append(key)
            case let n as NSNumber:
                numbers += 1
                if !n.doubleValue.isFinite { nonFinite.append(key) }
            default: break
            }
        }
        walk(json, "report")
        XCTAssertGreaterThanOrEqual(numbers, minimumFigures, "figures in \(directory)/report.json", file: file, line: line)
        XCTAssertEqual(nulls, [], "null values in \(directory)/report.json", file: file, line: line)
        XCTAssertEqual(nonFinite, [], "non-finite values in \(directory)/report.json", file: file, line: line)
        let pngs = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".png") }
        XCTAssertGreaterThanOrEqual(pngs.count, 5, "figures in \(directory)", file: file, line: line)
        for png in pngs {
            let head = try FileHandle(forReadingFrom: url.appendingPathComponent(png)).readData(ofLength: 8)
            XCTAssertEqual(Array(head), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(png) is not a PNG", file: file, line: line)
        }
        return try XCTUnwrap(json as? [String: Any])
    }

    // MARK: - Shared inputs, made once

    /// `make` runs once per test run; its result (or its error) is handed to every caller.
    func fixture(_ name: String, _ make: () throws -> String) throws -> String {
        if let done = Self.fixtures[name] { return try done.get() }
        let result = Result { try make() }
        Self.fixtures[name] = result
        return try result.get()
    }

    /// 6 members (0-3 train, 4-5 held out), 1850–1853 monthly, 16×32.
    func ensemble() throws -> String {
        try fixture("ensemble") {
            try ensemblegen(["simulate", "--members", "6", "--start", "1850", "--end", "1853", "--grid", "16x32",
                             "--seed", "1", "--quiet", "--output", path("ens.nc")])
            return path("ens.nc")
        }
    }

    /// What train-vae printed (stdout, then the epoch lines of stderr); the VAE is `vae()`.
    func trainVAE() throws -> String {
        try fixture("vae") {
            let r = try ensemblegen(["train-vae", "--data", try ensemble(), "--members", "0-3", "--validation-members", "4-5",
                                     "--epochs", "1", "--channels", "8,16", "--batch-size", "16", "--seed", "1",
                                     "--output", path("vae.safetensors")])
            return r.stdout + "\n" + r.stderr
        }
    }
    func vae() throws -> String { _ = try trainVAE(); return path("vae.safetensors") }

    /// What train-diffusion printed (stdout, then the epoch lines of stderr); the model directory is `model()`.
    func trainDiffusion() throws -> String {
        try fixture("model") {
            let r = try ensemblegen(["train-diffusion", "--vae", try vae(), "--data", try ensemble(), "--members", "0-3",
                                     "--validation-members", "4-5", "--conditioning-member", "0", "--generator", "autoregressive",
                                     "--epochs", "1", "--steps-per-epoch", "5", "--width", "32", "--layers", "1",
                                     "--batch-size", "8", "--seed", "1", "--output", path("model")])
            return r.stdout + "\n" + r.stderr
        }
    }
    func model() throws -> String { _ = try trainDiffusion(); return path("model") }

    func generated() throws -> String {
        try fixture("generated") {
            try ensemblegen(["generate", "--model", try model(), "--members", "2", "--steps", "2", "--seed", "3",
                             "--quiet", "--output", path("gen.nc")])
            return path("gen.nc")
        }
    }

    // MARK: - The commands

    func testSimulate() throws {
        let help = try ensemblegen(["simulate", "--help"])
        for option in ["USAGE: ensemblegen simulate", "--members", "--start", "--end", "--grid", "--seed", "--output"] {
            XCTAssertTrue(help.stdout.contains(option), "'\(option)' missing from simulate --help:\n\(help.stdout)")
        }
        let r = try ensemblegen(["simulate", "--members", "4", "--start", "1850", "--end", "1853", "--grid", "16x32", "--seed", "1",
                                 "--output", path("sim.nc"), "--forcing-output", path("forcing.nc")])
        XCTAssertTrue(r.stdout.contains("tas(realization=4 [0…3], time=48, lat=16, lon=32)"), r.stdout)
        try assertInfo(path("sim.nc"), shows: ["tas (air_temperature", "units K", "16 × 32", "48 monthly steps", "1850–1853",
                                               "members    4: 0, 1, 2, 3", "missing    0 of"])
        let members = try assertEnsemble(path("sim.nc"), members: 4, months: 48, grid: (16, 32))
        XCTAssertNotEqual(members[0], members[1], "members differ")
        try assertCFValid(path("sim.nc"), path("forcing.nc"))
    }

    func testMerge() throws {
        for m in 0..<2 {
            try ensemblegen(["simulate", "--members", "1", "--first-member", "\(m)", "--start", "1850", "--end", "1851",
                             "--grid", "16x32", "--quiet", "--output", path("one-\(m).nc")])
        }
        let r = try ensemblegen(["merge", path("one-0.nc"), path("one-1.nc"), "--output", path("merged.nc")])
        XCTAssertTrue(r.stdout.contains("tas(realization=2, time=24, lat=16, lon=32)"), r.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("merged.nc.partial")))
        try assertInfo(path("merged.nc"), shows: ["members    2: 0, 1", "24 monthly steps", "1850–1851"])
        let merged = try assertEnsemble(path("merged.nc"), members: 2, months: 24, grid: (16, 32))
        for m in 0..<2 {
            XCTAssertEqual(merged[m], try assertEnsemble(path("one-\(m).nc"), members: 1, months: 24, grid: (16, 32))[0], "member \(m)")
        }
        try assertCFValid(path("merged.nc"))
    }

    func testTrainVAEAndReconstruct() throws {
        let training = try trainVAE()
        XCTAssertTrue(training.contains("wrote \(path("vae.safetensors"))"), training)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("vae.safetensors")))
        try assertFigure("validation RMSE", in: training, within: 0.01...20)

        let r = try ensemblegen(["reconstruct", "--model", path("vae.safetensors"), "--data", try ensemble(), "--members", "4-5",
                                 "--output", path("rec.nc")])
        let rmse = try assertFigure("area-weighted RMSE", in: r.stdout, within: 0.01...20)
        try assertFigure("compression ratio", in: r.stdout, within: 1...1000)
        try assertFigure("Niño3.4 box RMSE", in: r.stdout, within: 0.001...20)
        try assertFigure("Niño3.4 index correlation", in: r.stdout, within: -1...1)
        let bandLine = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("RMSE by latitude band") }, r.stdout)
        let bands = bandLine.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }
        XCTAssertEqual(bands.count, 6, String(bandLine))
        XCTAssertTrue(bands.allSatisfy { $0.isFinite && $0 > 0 && $0 < 20 }, String(bandLine))

        try assertInfo(path("rec.nc"), shows: ["members    2: 4, 5", "48 monthly steps", "16 × 32"])
        let reconstructed = try assertEnsemble(path("rec.nc"), members: 2, months: 48, grid: (16, 32))
        // The RMSE printed is that of the file written: recompute it with cos(latitude) weights.
        let reader = try EnsembleReader(path: try ensemble())
        defer { try? reader.close() }
        let weights = reader.grid.latitudes.map { cos($0 * .pi / 180) }
        var sum = 0.0, weight = 0.0
        for (k, m) in [4, 5].enumerated() {
            let original = try reader.readMember(m)
            for (i, (a, b)) in zip(reconstructed[k], original).enumerated() {
                let w = weights[(i / 32) % 16]
                sum += w * Double(a - b) * Double(a - b)
                weight += w
            }
        }
        XCTAssertEqual((sum / weight).squareRoot(), rmse, accuracy: 0.01 * rmse + 0.001, "printed RMSE vs the file written")
        try assertCFValid(path("rec.nc"))
    }

    func testTrainDiffusion() throws {
        let training = try trainDiffusion()
        XCTAssertTrue(training.contains("wrote \(path("model"))/diffusion-autoregressive.safetensors"), training)
        try assertFigure("validation loss", in: training, within: 0.0001...100)
        for file in ["vae.safetensors", "conditioning.safetensors", "unresolved-variability.safetensors",
                     "diffusion-autoregressive.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path("model/" + file)), "model/\(file)")
        }
        // The conditioning member is left out of the training members (its residual is zero).
        try assertInfo(path("model"), shows: ["(model directory)", "vae ", "channels 8, 16", "conditioning    member 0 of \(try ensemble())",
                                              "48 time steps 1850–1853", "autoregressive  MLP width 32, 1 blocks",
                                              "members 1-3, conditioning members 0, data \(try ensemble())", "spread calibration: none", "unresolved",
                                              "training.json   experiment_id historical, members 1-3, data sha256 \(try sha256sum(try ensemble()))"])
    }

    /// fit-unresolved and calibrate-spread change the model: they work on a copy, which then generates.
    func testFitUnresolvedCalibrateSpreadAndGenerate() throws {
        let copy = path("model-calibrated")
        try FileManager.default.copyItem(atPath: try model(), toPath: copy)
        // Measured on fewer members than train-diffusion used (1-3), so the statistics change.
        let fit = try ensemblegen(["fit-unresolved", "--model", copy, "--data", try ensemble(), "--members", "1-2"])
        XCTAssertTrue(fit.stdout.contains("wrote \(copy)/unresolved-variability.safetensors"), fit.stdout)
        try assertFigure("standard deviation", in: fit.stdout, within: 0.001...20)
        try assertFigure("correlation between longitude neighbours", in: fit.stdout, within: -1...1)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: copy + "/unresolved-variability.safetensors")),
                          try Data(contentsOf: URL(fileURLWithPath: try model() + "/unresolved-variability.safetensors")))

        let calibrate = try ensemblegen(["calibrate-spread", "--model", copy, "--generator", "autoregressive", "--data", try ensemble(),
                                         "--members", "0-3", "--generated-members", "4", "--steps", "2", "--iterations", "1"])
        try assertFigure("factors", in: calibrate.stdout, within: 0.01...100)
        try assertFigure("(mean", in: calibrate.stdout, within: 0.01...100)
        try assertFigure("spread ratio", in: calibrate.stdout, within: 0.01...100)
        try assertFigure("→", in: calibrate.stdout, within: 0.01...100)
        try assertInfo(copy, shows: ["spread calibration: factors", "sampler DPM-Solver++(2M), 2 steps"])

        let r = try ensemblegen(["generate", "--model", copy, "--members", "2", "--steps", "2", "--seed", "3",
                                 "--output", path("gen-calibrated.nc")])
        XCTAssertTrue(r.stdout.contains("2 members × 48 time steps"), r.stdout)
        let calibrated = try assertEnsemble(path("gen-calibrated.nc"), members: 2, months: 48, grid: (16, 32))
        let plain = try assertEnsemble(try generated(), members: 2, months: 48, grid: (16, 32))
        XCTAssertNotEqual(calibrated[1], plain[1], "the calibration and unresolved variability change the members")
    }

    /// repack to float16 halves the weight matrices and moves the members by rounding only:
    /// each weight moves by at most 2⁻¹¹ of itself, which through the small networks here
    /// changes the members by about 10⁻³ of their differences from each other; 1% bounds it.
    func testRepackToFloat16() throws {
        let copy = path("model-float16")
        try FileManager.default.copyItem(atPath: try model(), toPath: copy)
        let checkpoint = copy + "/diffusion-autoregressive.safetensors"
        let before = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: checkpoint)[.size] as? Int)
        let r = try ensemblegen(["repack", "--model", copy, "--weight-precision", "float16"])
        XCTAssertTrue(r.stdout.contains("repacked \(checkpoint):"), r.stdout)
        XCTAssertTrue(r.stdout.contains("weight matrices in float16"), r.stdout)
        let after = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: checkpoint)[.size] as? Int)
        XCTAssertLessThan(Double(after), 0.7 * Double(before), "the matrices are most of the file and take half the bytes")
        try assertInfo(copy, shows: ["autoregressive  MLP width 32, 1 blocks, context 3 months, weights float16"])
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: copy + "/training.json")))
                                   as? [String: Any])
        let commands = try XCTUnwrap(record["commands"] as? [String: Any])
        XCTAssertNotNil(commands["repack_autoregressive"], "the record names the repack")

        _ = try ensemblegen(["generate", "--model", copy, "--members", "2", "--steps", "2", "--seed", "3", "--quiet",
                             "--output", path("gen-float16.nc")])
        let half = try assertEnsemble(path("gen-float16.nc"), members: 2, months: 48, grid: (16, 32))
        let full = try assertEnsemble(try generated(), members: 2, months: 48, grid: (16, 32))
        func rms(_ a: [Float], _ b: [Float]) -> Double {
            (zip(a, b).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(a.count)).squareRoot()
        }
        let moved = max(rms(half[0], full[0]), rms(half[1], full[1])), spread = rms(full[0], full[1])
        XCTAssertGreaterThan(moved, 0, "the weights were rounded")
        XCTAssertLessThan(moved, 0.01 * spread, "members moved \(moved) K; they differ by \(spread) K")

        let bad = try runProcess(try releaseEnsemblegenExecutable(),
                                 ["repack", "--model", copy, "--generator", "transformer", "--weight-precision", "float16"], directory: nil)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.hasPrefix("error: \(copy): the model directory has no diffusion-transformer.safetensors"), bad.stderr)
    }

    func testGenerate() throws {
        let file = try generated()
        try assertInfo(file, shows: ["tas (air_temperature", "members    2: 0, 1", "48 monthly steps", "1850–1853", "16 × 32",
                                     "missing    0 of", "scalar     height = 2 m"])
        let members = try assertEnsemble(file, members: 2, months: 48, grid: (16, 32))
        XCTAssertNotEqual(members[0], members[1], "members differ")
        try assertCFValid(file)
        // Provenance: when, by which commit, from which model files (checked with sha256sum).
        let model = try model()
        try NetCDFFile.withFile(file) { f in
            let created = try XCTUnwrap(f.attribute("creation_date")?.text)
            XCTAssertNotNil(created.range(of: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", options: .regularExpression), created)
            XCTAssertNotNil(try f.attribute("software_commit")?.text?.range(of: "^([0-9a-f]{7,40}(-dirty)?|unknown)$", options: .regularExpression))
            XCTAssertNil(try f.attribute("institution"), "an emulation is not the institution's output")
            let checksums = try XCTUnwrap(f.attribute("model_sha256")?.text).split(separator: " ")
            XCTAssertEqual(checksums.map { String($0.split(separator: ":")[0]) },
                           ["vae.safetensors", "diffusion-autoregressive.safetensors", "conditioning.safetensors", "unresolved-variability.safetensors"])
            for entry in checksums {
                let parts = entry.split(separator: ":").map(String.init)
                XCTAssertEqual(parts[1], try sha256sum(model + "/" + parts[0]), parts[0])
            }
            XCTAssertEqual(try f.attribute("conditioning_source")?.text, model + "/conditioning.safetensors")
            XCTAssertEqual(try f.attribute("conditioning_sha256")?.text, try sha256sum(model + "/conditioning.safetensors"))
            XCTAssertEqual(try f.attribute("training_members")?.text, "1-3")
            let source = try XCTUnwrap(f.attribute("source")?.text)
            XCTAssertTrue(source.contains("emulation of"), source)
        }
    }

    /// sha256sum's checksum of `file` (independent of EnsembleGen's SHA-256).
    func sha256sum(_ file: String) throws -> String {
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/sha256sum"), [file])
        XCTAssertEqual(r.status, 0, r.stderr)
        return String(r.stdout.prefix(64))
    }

    /// A conditioning file given by a relative path is recorded by its absolute path and
    /// SHA-256, in the attributes and the history line.
    func testGenerateRecordsTheConditioningFile() throws {
        let ensemble = try ensemble()
        try ensemblegen(["generate", "--model", try model(), "--conditioning", "ens.nc", "--conditioning-member", "1",
                         "--members", "1", "--steps", "2", "--quiet", "--output", "gen-conditioned.nc"], in: Self.directory)
        let file = path("gen-conditioned.nc")
        try NetCDFFile.withFile(file) { f in
            XCTAssertEqual(try f.attribute("conditioning_source")?.text, ensemble)
            XCTAssertEqual(try f.attribute("conditioning_sha256")?.text, try sha256sum(ensemble))
            XCTAssertEqual(try f.attribute("conditioning_member")?.text, "1")
            let history = try XCTUnwrap(f.attribute("history")?.text)
            XCTAssertTrue(history.contains("--conditioning \(ensemble) "), history)
            XCTAssertTrue(history.contains("--output \(file) (EnsembleGen "), history)
        }
        try assertCFValid(file)
    }

    /// --conditioning-member chooses a member of --conditioning: alone it is refused.
    func testConditioningMemberWithoutConditioningIsRefused() throws {
        let r = try runProcess(try releaseEnsemblegenExecutable(), ["generate", "--model", try model(), "--conditioning-member", "1",
                                                                     "--members", "1", "--output", path("refused.nc")])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--conditioning-member chooses a member of --conditioning; give the file too"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("refused.nc")))
    }

    func testVersionNamesTheCommit() throws {
        let r = try ensemblegen(["--version"])
        XCTAssertNotNil(r.stdout.range(of: "^[0-9]+\\.[0-9]+\\.[0-9]+ \\(commit ([0-9a-f]{7,40}(-dirty)?|unknown)\\)$", options: .regularExpression), r.stdout)
    }

    func testDiagnose() throws {
        let r = try ensemblegen(["diagnose", try generated(), "--output", path("diag")])
        XCTAssertTrue(r.stdout.contains("members: 2"), r.stdout)
        try assertFigure("spread (area-weighted mean ensemble std)", in: r.stdout, within: 0.001...20)
        try assertFigure("Niño3.4: std", in: r.stdout, within: 0.001...20)
        try assertFigure("skewness", in: r.stdout, within: -20...20)
        try assertFigure("spectral peak", in: r.stdout, within: 0.1...100)
        try assertFigure("global-mean trend", in: r.stdout, within: -1000...1000)
        let report = try assertReport(path("diag"), minimumFigures: 50)
        XCTAssertEqual(report["memberCount"] as? Int, 2)
        XCTAssertEqual(report["timeCount"] as? Int, 48)
    }

    func testBaselineAndEvaluate() throws {
        let b = try ensemblegen(["baseline", "--training", try ensemble(), "--training-members", "0-3", "--conditioning-member", "0",
                                 "--members", "3", "--modes", "5", "--seed", "2", "--chunking", "time-series", "--deflate-level", "4",
                                 "--output", path("base.nc")])
        XCTAssertTrue(b.stdout.contains("from 4 training members"), b.stdout)
        let header = try runProcess(URL(fileURLWithPath: "/usr/bin/ncdump"), ["-hs", path("base.nc")]).stdout
        for attribute in [":creation_date = \"", ":software_commit = \"", ":training_file = \"/", ":training_sha256 = \"",
                          "tas:_ChunkSizes = 48, 1, 8, 16", "tas:_DeflateLevel = 4"] {
            XCTAssertTrue(header.contains(attribute), "missing \(attribute) in\n\(header)")
        }
        try assertInfo(path("base.nc"), shows: ["members    3: 0, 1, 2", "48 monthly steps", "16 × 32"])
        try assertEnsemble(path("base.nc"), members: 3, months: 48, grid: (16, 32))
        try assertCFValid(path("base.nc"))

        let e = try ensemblegen(["evaluate", "--generated", try generated(), "--reference", try ensemble(), "--reference-members", "4-5",
                                 "--training", try ensemble(), "--training-members", "0-3", "--baseline", path("base.nc"),
                                 "--conditioning-member", "0", "--output", path("eval")])
        // One table row per candidate: spread ratio, CRPS, Niño σ ratio, spread–skill, |r(Niño, c)|.
        for candidate in ["generated", "training", "baseline"] {
            let row = try XCTUnwrap(e.stdout.split(separator: "\n").first { $0.hasPrefix(candidate + " ") }, "no \(candidate) row:\n\(e.stdout)")
            let figures = row.split(separator: " ").dropFirst().compactMap { Double($0) }
            XCTAssertEqual(figures.count, 5, String(row))
            XCTAssertTrue(figures.allSatisfy { $0.isFinite && $0 >= 0 && $0 < 100 }, String(row))
        }
        let report = try assertReport(path("eval"), minimumFigures: 100)
        let names = (report["candidates"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        XCTAssertEqual(names, ["generated", "training", "baseline"])
    }

    // MARK: - The shipped model

    func testInfoOnDefaultModelNamesBothGenerators() throws {
        let r = try ensemblegen(["info", repositoryRoot.appendingPathComponent("Data/default").path])
        XCTAssertTrue(r.stdout.contains("(model directory)"), r.stdout)
        for line in ["vae ", "conditioning ", "autoregressive ", "transformer ", "unresolved "] {
            XCTAssertTrue(r.stdout.split(separator: "\n").contains { $0.hasPrefix("  " + line) }, "no '\(line)' line:\n\(r.stdout)")
        }
        XCTAssertTrue(r.stdout.contains("grid 32×64"), r.stdout)
    }

    /// The default model (no --model, from another working directory), and the transformer
    /// with --model: one member, two years, two DDIM steps.
    func testGenerateWithDefaultModel() throws {
        let work = URL(fileURLWithPath: path("default-run"))
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let r = try ensemblegen(["generate", "--members", "1", "--start", "1850", "--end", "1851", "--steps", "2",
                                 "--output", "default.nc"], in: work)
        XCTAssertTrue(r.stdout.contains("1 members × 24 time steps"), r.stdout)
        let file = work.appendingPathComponent("default.nc").path
        try assertInfo(file, shows: ["members    1: 0", "24 monthly steps", "1850–1851", "32 × 64"])
        try assertEnsemble(file, members: 1, months: 24, grid: (32, 64))
        try assertCFValid(file)

        let t = try ensemblegen(["generate", "--model", repositoryRoot.appendingPathComponent("Data/default").path,
                                 "--generator", "transformer", "--members", "1", "--start", "1850", "--end", "1851", "--steps", "2",
                                 "--quiet", "--output", path("default-transformer.nc")])
        XCTAssertTrue(t.stdout.contains("1 members × 24 time steps"), t.stdout)
        try assertEnsemble(path("default-transformer.nc"), members: 1, months: 24, grid: (32, 64))
    }

    /// The 96×192 model (float16 weights) generates a CF file on its grid.
    func testGenerateWithT63Model() throws {
        let model = repositoryRoot.appendingPathComponent("Data/t63").path
        try assertInfo(model, shows: ["grid 96×192", "weights float16", "spread calibration: factors"])
        let r = try ensemblegen(["generate", "--model", model, "--members", "2", "--start", "1991", "--end", "1992",
                                 "--quiet", "--output", path("t63.nc")])
        XCTAssertTrue(r.stdout.contains("2 members × 24 time steps"), r.stdout)
        try assertEnsemble(path("t63.nc"), members: 2, months: 24, grid: (96, 192))
        try assertCFValid(path("t63.nc"))
    }
}
