import Foundation
import XCTest
import NetCDF
import TestEnvironment

/// Hostile input for every command of the release `ensemblegen` binary, table-driven
/// (MalformedCases*.swift; corpus in MalformedCorpus.swift). For every case: the process
/// exits (no signal, no crash report), leaves no `*.partial` file and changes no input. A
/// refusal exits ≠ 0, writes nothing and says what is wrong in one `error:` line naming the
/// file (or, for an option, an argument-parser `Error:` naming the option); an accepted input
/// gives exit 0 and an output `ensemblegen info` reads, not all missing, with plausible values.
///
/// Once per class a tiny VAE (8×16 grid, channels 8,16) and a tiny diffusion model are trained
/// with the binary for the commands that need one. Each case runs in a temporary directory of
/// its own, which is also the process's working directory (an empty or relative output path
/// must never reach the repository), removed when the case passes. A failing case prints one
/// line `MALFORMED-FAIL name: …` with the command, the exit status and standard error.
final class MalformedInputTests: XCTestCase {
    nonisolated(unsafe) static var root: String?
    nonisolated(unsafe) static var fixtureFailure: String?
    var executable: URL!

    static var allCases: [MalformedCase] { ContentCases.all + OutputCases.all + OptionCases.all + AcceptedCases.all }
    static var fixture: String { root! + "/fixture" }
    static let defaultModel = repositoryRoot.appendingPathComponent("Data/default").path

    override func setUpWithError() throws {
        executable = try releaseEnsemblegenExecutable()
        if let failure = Self.fixtureFailure { throw XCTSkip("tiny model fixture failed earlier: \(failure)") }
        if Self.root == nil {
            do { try Self.makeFixture(executable) } catch {
                Self.fixtureFailure = "\(error)"
                throw error
            }
        }
    }

    override class func tearDown() {
        if let r = root { try? FileManager.default.removeItem(atPath: r) }
        root = nil
        super.tearDown()
    }

    /// The training file (4 members), the tiny VAE and the tiny model directory.
    static func makeFixture(_ exe: URL) throws {
        let r = FileManager.default.temporaryDirectory.appendingPathComponent("malformed-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: r + "/fixture", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: r + "/cases", withIntermediateDirectories: true)
        root = r
        let f = fixture
        try writeCorpusField(f + "/train.nc", FieldSpec().with { $0.members = 4; $0.seed = 3 })
        for args in [Cmd.trainVAE([f + "/train.nc"], members: "0-2", validation: "3", output: f + "/vae.safetensors"),
                     Cmd.trainDiffusion([f + "/train.nc"], members: "0-3", output: f + "/model").map {
                         $0.replacingOccurrences(of: "{vae}", with: f + "/vae.safetensors") }] {
            let (out, _) = try runProcessBounded(exe, args, in: f, timeout: 120)
            guard out.reason == .exit, out.status == 0 else {
                let message = "\(args.joined(separator: " ")) failed (\(out.status)): \(out.stderr)"
                XCTFail(message)
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: message])
            }
        }
    }

    // MARK: the table

    func testTableCoversEveryCommand() {
        let cases = Self.allCases
        XCTAssertGreaterThanOrEqual(cases.count, 60)
        XCTAssertEqual(Set(cases.map(\.name)).count, cases.count, "case names must be unique")
        let commands = Set(cases.map(\.command))
        for c in ["info", "merge", "diagnose", "baseline", "evaluate", "train-vae", "reconstruct", "train-diffusion",
                  "fit-unresolved", "calibrate-spread", "generate", "compress", "decompress"] {
            XCTAssertTrue(commands.contains(c), "no case runs \(c)")
        }
        XCTAssertTrue(cases.contains { $0.arguments.contains("--conditioning") }, "no generate --conditioning case")
    }

    func testDamagedFiles() throws { try run(ContentCases.damaged) }
    func testTimeAxisProblems() throws { try run(ContentCases.timeAxis) }
    func testMissingValues() throws { try run(ContentCases.missing) }
    func testImplausibleTemperatures() throws { try run(ContentCases.implausible) }
    func testOutputIsAnInput() throws { try run(OutputCases.sameAsInput) }
    func testOutputIsNotARegularFile() throws { try run(OutputCases.notAFile) }
    func testOutputDirectoryMissing() throws { try run(OutputCases.missingParent) }
    func testOutputBeingWrittenByAnotherRun() throws { try run(OutputCases.busy) }
    func testEmptyOutputPath() throws { try run(OutputCases.empty) }
    func testBadOptions() throws { try run(OptionCases.all) }
    func testUnusualValidInputs() throws { try run(AcceptedCases.all) }

    // MARK: running a case

    func run(_ cases: [MalformedCase], file: StaticString = #filePath, line: UInt = #line) throws {
        for c in cases {
            let problems = try check(c)
            for p in problems { XCTFail("\(c.name): \(p)", file: file, line: line) }
        }
    }

    func expand(_ s: String, directory: String) -> String {
        s.replacingOccurrences(of: "{d}", with: directory)
            .replacingOccurrences(of: "{vae}", with: Self.fixture + "/vae.safetensors")
            .replacingOccurrences(of: "{tiny}", with: Self.fixture + "/model")
            .replacingOccurrences(of: "{model}", with: directory + "/model")
            .replacingOccurrences(of: "{default}", with: Self.defaultModel)
    }

    /// Runs one case; returns what is wrong (empty: the case passed).
    func check(_ c: MalformedCase) throws -> [String] {
        let dir = Self.root! + "/cases/" + c.name
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in c.files { try f.make(dir + "/" + f.name) }
        if c.arguments.contains(where: { $0.contains("{model}") }) {
            try FileManager.default.copyItem(atPath: Self.fixture + "/model", toPath: dir + "/model")
        }
        try c.setup?(dir, executable)
        let args = c.arguments.map { expand($0, directory: dir) }
        let usesDefault = args.contains(Self.defaultModel)
        let before = snapshot(dir), fixtureBefore = snapshot(Self.fixture)
        let defaultBefore = usesDefault ? snapshot(Self.defaultModel) : [:]

        let (r, timedOut) = try runProcessBounded(executable, args, in: dir, environment: c.environment, timeout: c.timeout)

        var problems: [String] = []
        if timedOut { problems.append("killed after \(Int(c.timeout)) s") } else if r.reason != .exit {
            problems.append("terminated by signal \(r.status)")
        }
        for marker in ["Fatal error", "Program crashed", "Stack dump", "Backtrace", "Current stack trace"] where r.stderr.contains(marker) {
            problems.append("stderr has '\(marker)'")
        }
        let after = snapshot(dir)
        let newPartials = after.keys.filter { $0.hasSuffix(".partial") && before[$0] == nil }.sorted()
            + partialFiles(Self.fixture).map { "fixture/" + $0 }
        if !newPartials.isEmpty { problems.append("left \(newPartials.joined(separator: ", "))") }
        if snapshot(Self.fixture) != fixtureBefore { problems.append("changed the suite's tiny VAE or model") }
        if usesDefault && snapshot(Self.defaultModel) != defaultBefore { problems.append("changed Data/default") }

        let lines = r.stderr.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let oneErrorLine = lines.count == 1 && lines[0].hasPrefix("error: ")
        switch c.expectation {
        case .refused(let offending, let mentions):
            if r.status == 0 { problems.append("exit status 0") }
            problems += differences(before, after, allowed: { _ in false })
            if !oneErrorLine { problems.append("stderr is not one 'error: ' line") }
            let path = expand(offending, directory: dir)
            if !r.stderr.contains(path) { problems.append("stderr does not name \(path)") }
            for m in mentions where !r.stderr.contains(m) { problems.append("stderr lacks '\(m)'") }
        case .invalidOption(let names):
            if r.status != 64 { problems.append("exit status \(r.status), expected 64") }
            problems += differences(before, after, allowed: { _ in false })
            if !r.stderr.contains("Error:") { problems.append("stderr lacks 'Error:'") }
            if !names.contains(where: r.stderr.contains) { problems.append("stderr names none of \(names)") }
        case .refusedOption(let names):
            if r.status == 0 { problems.append("exit status 0") }
            problems += differences(before, after, allowed: { _ in false })
            if !(r.stderr.contains("Error:") || oneErrorLine) { problems.append("stderr is neither 'Error:' nor one 'error: ' line") }
            if !names.contains(where: r.stderr.contains) { problems.append("stderr names none of \(names)") }
        case .accepted(let checks):
            if r.status != 0 { problems.append("exit status \(r.status)") }
            problems += differences(before, after, allowed: { c.modifiesModel && $0.hasPrefix("model/") }, onlyInputs: true)
            if r.status == 0 { for k in checks { problems += verify(k, directory: dir, stdout: r.stdout) } }
        }
        precondition(FileManager.default.fileExists(atPath: repositoryRoot.appendingPathComponent("Package.swift").path),
                     "\(c.name): the repository disappeared")

        if problems.isEmpty {
            try? FileManager.default.removeItem(atPath: dir)
        } else {
            let shown = args.map { $0.replacingOccurrences(of: dir, with: "$D").replacingOccurrences(of: Self.root!, with: "$R") }
            let status = timedOut ? "killed" : (r.reason == .exit ? "exit \(r.status)" : "signal \(r.status)")
            let err = String(r.stderr.replacingOccurrences(of: dir, with: "$D").split(separator: "\n").last ?? "").prefix(300)
            print("MALFORMED-FAIL \(c.name): ensemblegen \(shown.joined(separator: " ")) -> \(status); stderr: \(err) "
                  + "[\(problems.joined(separator: "; ").replacingOccurrences(of: dir, with: "$D"))]")
        }
        return problems.map { $0.replacingOccurrences(of: dir, with: "$D") }
    }

    /// Entries of `before` changed or removed, and (unless `onlyInputs`) entries added.
    func differences(_ before: [String: SnapshotEntry], _ after: [String: SnapshotEntry],
                     allowed: (String) -> Bool, onlyInputs: Bool = false) -> [String] {
        var out: [String] = []
        for (k, v) in before.sorted(by: { $0.key < $1.key }) where !allowed(k) {
            if let a = after[k] { if a != v { out.append("changed \(k)") } } else { out.append("removed \(k)") }
        }
        if !onlyInputs {
            let added = after.keys.filter { before[$0] == nil }.sorted()
            if !added.isEmpty { out.append("created \(added.joined(separator: ", "))") }
        }
        return out
    }

    func verify(_ check: OutputCheck, directory: String, stdout: String) -> [String] {
        switch check {
        case .stdout(let text):
            return stdout.contains(text) ? [] : ["stdout lacks '\(text)'"]
        case .nonEmpty(let name):
            let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? 0
            return size > 0 ? [] : ["no output \(name)"]
        case .report(let name):
            guard let data = FileManager.default.contents(atPath: directory + "/" + name + "/report.json"),
                  (try? JSONSerialization.jsonObject(with: data)) != nil else { return ["no readable \(name)/report.json"] }
            return []
        case .netCDF(let name, let members, let mean):
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { return ["no output \(name)"] }
            guard let info = try? runProcessBounded(executable, ["info", path], in: directory, timeout: 30).output,
                  info.status == 0 else { return ["info cannot read \(name)"] }
            guard let s = infoSummary(info.stdout) else { return ["cannot parse info of \(name): \(info.stdout)"] }
            var out: [String] = []
            if s.missing >= s.total { out.append("\(name) is all missing") }
            if !mean.contains(s.mean) { out.append("\(name) area-weighted mean \(s.mean) K outside \(mean)") }
            if let m = members, s.members != m { out.append("\(name) has \(s.members.map(String.init) ?? "?") members, expected \(m)") }
            return out
        }
    }
}
