import Climate
import Diagnostics
import Foundation
import OutputFiles

/// Member lists such as `0-29`, `30-39`, `0,3,5-7` (0-based indices into a file's members).
public enum MemberSelection {
    /// Parses a member list; `count` (the file's member count) bounds the indices.
    /// - Throws: `CFError` for malformed text, members outside the file and repeated members.
    public static func parse(_ text: String, count: Int, file: String) throws -> [Int] {
        var out: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(ends.count), let a = ends.first ?? nil, let b = ends.last ?? nil, a <= b else {
                throw CFError(file: file, "'\(text)' is not a member list like 0-29 or 0,3,5-7")
            }
            // Bounds first: a range is only materialised once it is known to lie in the file.
            guard a >= 0, b < count else {
                throw CFError(file: file, "member \(a < 0 ? a : max(a, count)) does not exist: the file has \(count) members (0…\(count - 1))")
            }
            out += Array(a...b)
        }
        var seen = Set<Int>()
        if let repeated = out.first(where: { !seen.insert($0).inserted }) {
            throw CFError(file: file, "member \(repeated) is listed twice in '\(text)'")
        }
        return out
    }

    /// Training and validation members from the two lists (training defaults to every member
    /// not held out for validation). Held-out members must not be trained on.
    public static func split(training: String?, validation: String?, count: Int, file: String) throws
        -> (training: [Int], validation: [Int]) {
        let held = try validation.map { try parse($0, count: count, file: file) } ?? []
        let trained = try training.map { try parse($0, count: count, file: file) } ?? (0..<count).filter { !held.contains($0) }
        if let both = trained.first(where: held.contains) {
            throw CFError(file: file, "member \(both) is both a training and a validation member; the validation members must be held out")
        }
        guard !trained.isEmpty else { throw CFError(file: file, "no training members left (all are validation members)") }
        return (trained, held)
    }
}

/// Reading ensembles for the analysis commands.
enum AnalysisInput {
    /// Members `selection` (nil: all) of `path` as `EnsembleFields`, plus the metadata.
    /// `requirements` says which sampling the command accepts (the diagnostics: monthly or
    /// annual; the baseline: monthly).
    static func fields(_ path: String, variable: String? = nil, members selection: String? = nil, name: String,
                       requirements: InputRequirements = .analysis) throws -> (fields: EnsembleFields, ensemble: EnsembleReader) {
        let reader = try EnsembleReader(path: path, variable: variable, requirements: requirements)
        defer { try? reader.close() }
        // The trend, spectra and composites are computed on whole years; the spectrum needs 4 steps.
        let annual = reader.time.frequency == .annual
        guard reader.timeCount >= (annual ? 4 : 36) else {
            let have = annual ? "\(reader.timeCount) years are" : "\(reader.timeCount) months are"
            throw CFError(file: path, variable: reader.variable.name,
                          "\(have) too few for the diagnostics; they need at least \(annual ? "4 years of annual means" : "3 whole years")")
        }
        let indices = try selection.map { try MemberSelection.parse($0, count: reader.memberCount, file: path) }
            ?? Array(0..<reader.memberCount)
        try reader.requireMemory(members: indices.count, copies: 2)
        var values = [Float]()
        values.reserveCapacity(indices.count * reader.valuesPerMember)
        for m in indices { values += try reader.readMember(m) }
        let f = try EnsembleFields(values: values, memberCount: indices.count, grid: reader.grid, time: reader.time, name: name)
        return (f, reader)
    }
}

/// `ensemblegen diagnose`: every single-ensemble diagnostic, written as report.md,
/// report.json and PNG figures.
public enum DiagnosePipeline {
    public struct Result: Sendable {
        public var report: DiagnosticsReport
        public var files: [String]
        public var memberCount: Int
        /// Area-weighted mean ensemble standard deviation, K (nil for one member).
        public var spread: Double?

        /// Short text for the terminal: members and time steps, spread, Niño3.4 std and peak,
        /// Pinatubo cooling, trend; for annual data the spectral resolution and the metrics
        /// that need monthly data. No figure is printed that is not finite.
        public var text: String {
            let s = report.summary
            var lines = ["members: \(memberCount), \(s.timeStep.count(s.timeCount)) (\(s.firstYear)–\(s.lastYear))"]
            if let sp = spread, sp.isFinite { lines.append(String(format: "spread (area-weighted mean ensemble std): %.3f K", sp)) }
            let n = s.nino34
            if n.standardDeviation.isFinite, n.skewness.isFinite {
                lines.append(String(format: "Niño3.4: std %.2f K, skewness %.2f, spectral peak ", n.standardDeviation, n.skewness) + s.peakText)
            }
            if let note = s.spectrumNote { lines.append("Niño3.4 spectrum: " + note) }
            if let p = s.peakCooling(eruption: "Pinatubo") { lines.append("Pinatubo: ensemble-mean global cooling " + p.text) }
            lines.append("global-mean trend: " + (s.trendText ?? "not computed (fewer than 3 whole years)"))
            if s.isAnnual { lines.append(MonthlyOnlyMetrics.line) }
            lines.append("wrote " + files.joined(separator: ", "))
            return lines.joined(separator: "\n")
        }
    }

    public static func run(input: String, variable: String? = nil, members: String? = nil,
                           outputDirectory: String) throws -> Result {
        let directory = try OutputDirectory(path: outputDirectory, inputs: [input])
        let (fields, _) = try AnalysisInput.fields(input, variable: variable, members: members,
                                                   name: (input as NSString).lastPathComponent)
        let report: DiagnosticsReport
        do {
            report = try EnsembleDiagnostics.compute(fields)
        } catch let error where !(error is CFError) {
            // The diagnostics know the fields, not the file (e.g. a grid without the Niño3.4 box).
            throw CFError(file: input, "\(error)")
        }
        let files = try AnalysisOutput.writeReport(into: directory, markdown: report.markdown(headingLevel: 1), json: try report.json()) {
            try report.writeFigures(to: directory)
        }
        return Result(report: report, files: files, memberCount: fields.memberCount,
                      spread: fields.memberCount >= 2 ? try Verification.meanSpread(fields) : nil)
    }
}

/// `ensemblegen evaluate`: generated (and baseline, training) ensembles scored against a
/// reference ensemble (e.g. held-out members), side by side.
public enum EvaluatePipeline {
    public struct Options: Sendable {
        /// Generated ensemble; nil scores only the baseline and training ensembles.
        public var generated: String?
        public var generatedMembers: String?
        public var reference: String
        /// Members of the reference file to use (e.g. "30-39", the held-out members).
        public var referenceMembers: String?
        public var baseline: String?
        /// A training-ensemble file (may be the reference file) and its members (e.g. "0-29").
        public var training: String?
        public var trainingMembers: String?
        /// Conditioning member: an index into the training (or else reference) file.
        public var conditioningMember: Int?
        public var variable: String?
        public var outputDirectory: String

        public init(generated: String?, generatedMembers: String? = nil, reference: String, referenceMembers: String? = nil,
                    baseline: String? = nil, training: String? = nil, trainingMembers: String? = nil,
                    conditioningMember: Int? = nil, variable: String? = nil, outputDirectory: String) {
            self.generated = generated; self.generatedMembers = generatedMembers
            self.reference = reference; self.referenceMembers = referenceMembers
            self.baseline = baseline; self.training = training; self.trainingMembers = trainingMembers
            self.conditioningMember = conditioningMember; self.variable = variable
            self.outputDirectory = outputDirectory
        }
    }

    public struct Result: Sendable {
        public var report: EvaluationReport
        public var files: [String]
        /// One line per candidate: spread ratio, fair CRPS, Niño3.4 std ratio, spread–skill
        /// ("—" where a figure is not finite); for annual data the spectral resolution and
        /// the metrics that need monthly data.
        public var text: String {
            func cell(_ text: String, _ width: Int) -> String {
                text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
            }
            func row(_ cols: [String]) -> String {
                cols[0].padding(toLength: 12, withPad: " ", startingAt: 0) + cols.dropFirst().map { cell($0, 12) }.joined()
            }
            func num(_ x: Double, _ digits: Int) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "—" }
            let ref = report.summary.reference
            var lines = ["reference: \(ref.memberCount) members × \(ref.timeStep.count(ref.timeCount)) (\(ref.firstYear)–\(ref.lastYear))",
                         row(["ensemble", "spread", "CRPS (K)", "Niño σ", "sp/sk", "|r(Niño,c)|"])]
            for c in report.summary.candidates {
                lines.append(row([c.name, num(c.comparison.spreadRatio, 3), num(c.verification.crpsFair, 4),
                                  num(c.nino34.standardDeviationRatio, 3), num(c.verification.spreadSkillRatio, 3),
                                  c.nino34.conditioningCorrelation.map { cc in
                                      num(cc.perMember.map { abs($0) }.reduce(0, +) / Double(max(cc.perMember.count, 1)), 3)
                                  } ?? "—"]))
            }
            lines.append("(spread and Niño σ: ratios to the reference; sp/sk: spread–skill ratio; |r(Niño,c)|: mean absolute correlation with the conditioning member)")
            if let note = ref.spectrumNote { lines.append("Niño3.4 spectra: " + note) }
            if ref.isAnnual { lines.append(MonthlyOnlyMetrics.line) }
            lines.append("wrote " + files.joined(separator: ", "))
            return lines.joined(separator: "\n")
        }
    }

    public static func run(_ o: Options) throws -> Result {
        let directory = try OutputDirectory(path: o.outputDirectory,
                                            inputs: [o.generated, o.reference, o.baseline, o.training].compactMap { $0 })
        let reference = try AnalysisInput.fields(o.reference, variable: o.variable, members: o.referenceMembers, name: "reference").fields
        var baseline = try o.baseline.map { try AnalysisInput.fields($0, variable: o.variable, name: "baseline").fields }
        let generated: EnsembleFields
        if let g = o.generated {
            generated = try AnalysisInput.fields(g, variable: o.variable, members: o.generatedMembers, name: "generated").fields
        } else if let b = baseline {
            // Only the baseline to score: it takes the first candidate's place.
            generated = b
            baseline = nil
        } else {
            throw EnsembleGenError("nothing to evaluate: give a generated or a baseline ensemble to score against \(o.reference)")
        }
        let training = try o.training.map {
            try AnalysisInput.fields($0, variable: o.variable, members: o.trainingMembers, name: "training").fields
        }
        var conditioning: EnsembleFields?
        if let k = o.conditioningMember {
            let source = o.training ?? o.reference
            conditioning = try AnalysisInput.fields(source, variable: o.variable, members: "\(k)", name: "conditioning").fields
        }
        let report: EvaluationReport
        do {
            report = try EnsembleEvaluation.compare(generated: generated, reference: reference, baseline: baseline,
                                                    training: training, conditioningMember: conditioning)
        } catch let error where !(error is CFError) {
            // The diagnostics name the roles; the user needs the files.
            let files = [("generated", o.generated), ("reference", o.reference), ("baseline", o.baseline), ("training", o.training)]
                .compactMap { role, path in path.map { "\(role) = \($0)" } }.joined(separator: ", ")
            throw EnsembleGenError("\(o.generated ?? o.reference): \(error) (\(files))")
        }
        let files = try AnalysisOutput.writeReport(into: directory, markdown: report.markdown, json: try report.json()) {
            try report.writeFigures(to: directory)
        }
        return Result(report: report, files: files)
    }
}

/// `ensemblegen baseline`: the MESMER-style statistical emulator (conditioning member's
/// smoothed forced component + AR(1) noise with EOF-truncated spatial covariance), written
/// like any generated ensemble.
public enum BaselinePipeline {
    public struct Options: Sendable {
        public var training: String
        public var trainingMembers: String?
        public var conditioningMember: Int
        public var memberCount: Int
        public var seed: UInt64
        public var modeCount: Int
        /// Running-mean window (months) that estimates the forced component from the conditioning member.
        public var smoothingMonths: Int
        public var variable: String?
        public var output: String
        /// Chunk shape and deflate level of the output's data variable.
        public var storage: OutputStorage
        public var commandLine: [String]

        public init(training: String, trainingMembers: String? = nil, conditioningMember: Int = 0, memberCount: Int,
                    seed: UInt64 = 1, modeCount: Int = 50, smoothingMonths: Int = 121, variable: String? = nil,
                    output: String, storage: OutputStorage = OutputStorage(), commandLine: [String] = CommandLine.arguments) {
            self.training = training; self.trainingMembers = trainingMembers
            self.conditioningMember = conditioningMember; self.memberCount = memberCount; self.seed = seed
            self.modeCount = modeCount; self.smoothingMonths = smoothingMonths; self.variable = variable
            self.output = output; self.storage = storage; self.commandLine = commandLine
        }
    }

    public static func run(_ o: Options, progress: ((Int, Int) -> Void)? = nil) throws -> String {
        guard o.memberCount >= 1 else { throw EnsembleGenError("a baseline ensemble needs at least one member, not \(o.memberCount)") }
        try OutputFile.checkDestination(o.output, inputs: [o.training])
        let (training, reader) = try AnalysisInput.fields(o.training, variable: o.variable, members: o.trainingMembers,
                                                          name: o.training, requirements: .monthlyAnalysis)
        let conditioning = try AnalysisInput.fields(o.training, variable: o.variable, members: "\(o.conditioningMember)",
                                                    name: "conditioning", requirements: .monthlyAnalysis).fields
        let model = try StatisticalBaseline.fit(training: training, modeCount: o.modeCount)
        let forced = StatisticalBaseline.smoothedForcedComponent(of: conditioning, windowMonths: o.smoothingMonths)
        var attributes = OutputAttributes(
            title: "Statistical-baseline ensemble (AR(1) + EOF-truncated spatial covariance, MESMER style)",
            institution: "",
            source: "EnsembleGen \(EnsembleGenVersion.string), statistical baseline, \(o.modeCount) EOF modes, "
                + "forced component: \(o.smoothingMonths)-month running mean of member \(o.conditioningMember)",
            history: EnsembleGenVersion.historyLine(commandLine: o.commandLine, files: [o.training, o.output]),
            references: "Beusch et al. 2020, Earth Syst. Dynam. (MESMER)",
            extra: EnsembleGenVersion.creationAttributes()
                + [("seed", .int64([Int64(bitPattern: o.seed)])), ("conditioning_member", .int32([Int32(o.conditioningMember)])),
                   ("training_file", .text(EnsembleGenVersion.absolutePath(o.training))),
                   ("training_sha256", .text(try FileDigest.sha256(path: o.training))),
                   ("training_members", .text(o.trainingMembers ?? "all"))])
        attributes.scalarCoordinates = reader.scalarCoordinates
        attributes.cellMeasures = reader.cellMeasures
        let writer = try EnsembleWriter(path: o.output, variable: reader.variable, grid: reader.grid, time: reader.time,
                                        members: (0..<o.memberCount).map(String.init), attributes: attributes,
                                        storage: o.storage, inputs: [o.training])
        writer.requiredRange = EnsembleWriter.plausibleTemperature
        for k in 0..<o.memberCount {
            try writer.write(member: k, values: try model.generateMember(k, forced: forced, seed: o.seed))
            progress?(k + 1, o.memberCount)
        }
        try writer.finish()
        return "wrote \(o.output): \(reader.variable.name)(realization=\(o.memberCount), time=\(reader.timeCount), "
            + "lat=\(reader.grid.latitudeCount), lon=\(reader.grid.longitudeCount)) from \(training.memberCount) training members"
    }
}

/// Report files are `OutputFile`s, written whole.
enum AnalysisOutput {
    /// report.md, report.json and the figures in `directory`; a failure removes what this run created.
    static func writeReport(into directory: OutputDirectory, markdown: String, json: Data,
                            figures: () throws -> [URL]) throws -> [String] {
        do {
            try directory.create()
            let md = directory.file("report.md"), js = directory.file("report.json")
            try OutputFile.write(Data(markdown.utf8), to: md)
            try OutputFile.write(json, to: js)
            let written = try figures()
            return [md, js].map { URL(fileURLWithPath: $0).path } + written.map(\.path)
        } catch {
            directory.rollback()
            throw error
        }
    }
}
