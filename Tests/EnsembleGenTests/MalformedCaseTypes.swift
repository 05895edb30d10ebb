import Foundation
import NetCDF

// Types and argument builders of the MalformedInputTests table. In arguments and paths,
// `{d}` is the case's own directory, `{vae}` the suite's tiny VAE, `{tiny}` the suite's tiny
// model directory (read only), `{model}` a copy of it in the case directory (for the commands
// that write into a model directory) and `{default}` the shipped Data/default.

/// A file (or directory, FIFO …) a case creates in its directory before running.
struct CorpusFile {
    let name: String
    let make: (String) throws -> Void

    static func field(_ name: String, _ spec: FieldSpec = FieldSpec()) -> CorpusFile {
        CorpusFile(name: name) { try writeCorpusField($0, spec) }
    }
    /// A classic (CDF-1) file cut after `fraction` of its bytes (the header survives).
    static func truncatedClassic(_ name: String, keeping fraction: Double = 0.6) -> CorpusFile {
        CorpusFile(name: name) {
            try writeCorpusField($0, FieldSpec().with { $0.format = .classic })
            try truncateFile($0, keeping: fraction)
        }
    }
    /// A NetCDF-4 (HDF5) file cut after `fraction` of its bytes.
    static func truncatedNetCDF4(_ name: String, keeping fraction: Double = 0.6) -> CorpusFile {
        CorpusFile(name: name) {
            try writeCorpusField($0, FieldSpec())
            try truncateFile($0, keeping: fraction)
        }
    }
    /// A complete classic file with time as record dimension whose header claims 100,000
    /// records (about 150 MB of data in a file of 60 kB).
    static func classicWithHugeRecordCount(_ name: String) -> CorpusFile {
        CorpusFile(name: name) {
            try writeCorpusField($0, FieldSpec().with { $0.format = .classic; $0.timeFirst = true; $0.unlimitedTime = true })
            try patchClassicRecordCount($0, to: 100_000)
        }
    }
    /// A complete classic file whose header says the longitude dimension has 100,000 points.
    static func classicWithHugeDimension(_ name: String) -> CorpusFile {
        CorpusFile(name: name) {
            try writeCorpusField($0, FieldSpec().with { $0.format = .classic })
            try patchClassicDimension($0, named: "lon", to: 100_000)
        }
    }
    /// A directory holding one file (which must survive).
    static func directory(_ name: String) -> CorpusFile {
        CorpusFile(name: name) {
            try FileManager.default.createDirectory(atPath: $0, withIntermediateDirectories: true)
            try "keep me\n".write(toFile: $0 + "/keep.txt", atomically: false, encoding: .utf8)
        }
    }
    static func fifo(_ name: String) -> CorpusFile { CorpusFile(name: name) { try makeFIFO($0) } }
    /// A stale `<output>.partial` (as if another run were writing `name`).
    static func partial(of name: String) -> CorpusFile {
        CorpusFile(name: name + ".partial") { try "another run is writing this\n".write(toFile: $0, atomically: false, encoding: .utf8) }
    }
}

/// What a case must do.
enum Expectation {
    /// A file problem: exit ≠ 0, no output, stderr exactly one line `error: …` naming `file`
    /// and containing every string of `mentions`.
    case refused(file: String, mentions: [String])
    /// An option rejected by argument-parser validation: exit 64, `Error:` and one of the names.
    case invalidOption([String])
    /// An option refused before any work: exit ≠ 0, no output, an argument-parser `Error:` or
    /// exactly one `error:` line, mentioning one of the names.
    case refusedOption([String])
    /// Exit 0, and each check holds.
    case accepted([OutputCheck])
}

/// What an accepted case must have produced.
enum OutputCheck {
    /// A NetCDF file `ensemblegen info` reads: not all missing, area-weighted mean in `mean` (K).
    case netCDF(String, members: Int? = nil, mean: ClosedRange<Double> = 240...320)
    /// A report directory with a parseable report.json.
    case report(String)
    /// A non-empty regular file.
    case nonEmpty(String)
    /// Standard output contains this.
    case stdout(String)
}

struct MalformedCase {
    let name: String
    let arguments: [String]
    var files: [CorpusFile] = []
    var expectation: Expectation
    var environment: [String: String]? = nil
    /// calibrate-spread / fit-unresolved write into `{model}` when they succeed.
    var modifiesModel = false
    /// Runs after the files are made, before the snapshot: (case directory, executable).
    var setup: ((String, URL) throws -> Void)? = nil
    /// Killed (and failed) after this many seconds.
    var timeout: TimeInterval = 30

    var command: String { arguments.first ?? "" }
}

/// Argument lists of every command, small enough to run in well under a second on the tiny data.
enum Cmd {
    static let vaeOptions = ["--latent-channels", "2", "--batch-size", "8", "--validation-samples", "16", "-q"]
    static let diffusionOptions = ["--epochs", "1", "--steps-per-epoch", "2", "--width", "16", "--layers", "1",
                                   "--batch-size", "4", "-q"]

    static func info(_ files: String...) -> [String] { ["info"] + files }
    static func merge(_ files: [String], output: String = "{d}/merged.nc", _ extra: [String] = []) -> [String] {
        ["merge", "-q"] + files + extra + ["-o", output]
    }
    static func trainVAE(_ data: [String], members: String = "0-1", validation: String = "2", epochs: String = "1",
                         channels: String = "8,16", output: String = "{d}/vae.safetensors", _ extra: [String] = []) -> [String] {
        ["train-vae"] + data.flatMap { ["--data", $0] } + ["--members", members, "--validation-members", validation,
                                                          "--epochs", epochs, "--channels", channels]
            + vaeOptions + extra + ["-o", output]
    }
    static func compress(_ data: String, output: String = "{d}/c.egc.nc") -> [String] {
        ["compress", data, "--max-error", "0.1", "-q", "-o", output]
    }
    static func decompress(_ file: String, output: String = "{d}/d.nc") -> [String] {
        ["decompress", file, "-q", "-o", output]
    }
    static func reconstruct(_ data: String, output: String? = "{d}/rec.nc", _ extra: [String] = []) -> [String] {
        ["reconstruct", "--model", "{vae}", "--data", data, "--members", "2", "-q"] + extra + (output.map { ["-o", $0] } ?? [])
    }
    static func trainDiffusion(_ data: [String], members: String = "0-2", output: String = "{d}/trained", _ extra: [String] = []) -> [String] {
        ["train-diffusion", "--vae", "{vae}"] + data.flatMap { ["--data", $0] } + ["--members", members, "--conditioning-member", "0"]
            + diffusionOptions + extra + ["-o", output]
    }
    static func fitUnresolved(_ data: String) -> [String] {
        ["fit-unresolved", "--model", "{model}", "--data", data, "--members", "1-2", "-q"]
    }
    static func calibrate(_ data: String, steps: String = "2", _ extra: [String] = []) -> [String] {
        ["calibrate-spread", "--model", "{model}", "--data", data, "--members", "0-2", "--generated-members", "2",
         "--steps", steps, "--iterations", "1", "-q"] + extra
    }
    static func generate(model: String = "{tiny}", conditioning: String? = nil, members: String = "1", steps: String = "2",
                         end: String = "2001", output: String = "{d}/gen.nc", _ extra: [String] = []) -> [String] {
        ["generate", "--model", model, "--members", members, "--steps", steps, "--start", "2000", "--end", end, "-q"]
            + (conditioning.map { ["--conditioning", $0] } ?? []) + extra + ["-o", output]
    }
    static func baseline(_ training: String, output: String = "{d}/base.nc") -> [String] {
        ["baseline", "--training", training, "--training-members", "0-1", "--members", "2", "--modes", "5",
         "--smoothing-months", "13", "-q", "-o", output]
    }
    static func diagnose(_ file: String, output: String = "{d}/diag") -> [String] { ["diagnose", file, "-o", output] }
    /// Reference members 2-3 (reference files have 4 members), training members 0-1.
    static func evaluate(generated: String, reference: String, training: String? = nil) -> [String] {
        ["evaluate", "--generated", generated, "--reference", reference, "--reference-members", "2-3",
         "--training", training ?? reference, "--training-members", "0-1", "--conditioning-member", "0", "-o", "{d}/eval"]
    }
}

// Specs of the malformed contents (each a small change of the valid default).
extension FieldSpec {
    static var withNaN: FieldSpec { FieldSpec().with { $0.overrides = [(1, 5, 3, 7, .nan)] } }
    static var withFillValues: FieldSpec {
        FieldSpec().with { $0.fillValue = 1e20; $0.overrides = [(0, 2, 4, 4, 1e20), (2, 30, 1, 9, 1e20)] }
    }
    static var withMissingValueAttribute: FieldSpec {
        FieldSpec().with { $0.missingValue = -999; $0.overrides = [(1, 11, 6, 0, -999)] }
    }
    /// Every cell of month 7 of member 2 is `_FillValue`.
    static var withMissingField: FieldSpec {
        FieldSpec().with { s in
            s.fillValue = 1e20
            s.overrides = (0..<8).flatMap { j in (0..<16).map { i in (2, 7, j, i, Float(1e20)) } }
        }
    }
    static func withCell(_ value: Float, member: Int = 1) -> FieldSpec { FieldSpec().with { $0.overrides = [(member, 17, 2, 5, value)] } }
    /// Kelvin numbers labelled degC (280 "degC").
    static var kelvinLabelledCelsius: FieldSpec { FieldSpec().with { $0.units = "degC" } }
    static var validCelsius: FieldSpec { FieldSpec().with { $0.units = "degC"; $0.fromKelvin = { $0 - 273.15 } } }
    static var daily: FieldSpec { FieldSpec().with { $0.times = (0..<90).map { Double($0) + 0.5 } } }
    static var pentads: FieldSpec { FieldSpec().with { $0.times = (0..<36).map { 5 * Double($0) + 2.5 } } }
    static var duplicatedTime: FieldSpec {
        FieldSpec().with { var t = monthlyMidpoints(startYear: 2000, months: 36, calendar: "standard"); t[5] = t[4]; $0.times = t }
    }
    static var descendingTime: FieldSpec {
        FieldSpec().with { $0.times = Array(monthlyMidpoints(startYear: 2000, months: 36, calendar: "standard").reversed()) }
    }
    static var swappedTime: FieldSpec {
        FieldSpec().with { var t = monthlyMidpoints(startYear: 2000, months: 36, calendar: "standard"); t.swapAt(10, 11); $0.times = t }
    }
    /// A one-member file holding member `k`.
    static func oneMember(_ k: Int) -> FieldSpec { FieldSpec().with { $0.members = nil; $0.firstMember = k; $0.seed = UInt64(10 + k) } }
}
