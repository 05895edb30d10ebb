import Climate
import Foundation
import NetCDF
import OutputFiles

/// Dimension order of written ensemble files (see `EnsembleWriter.Layout`).
public typealias OutputLayout = EnsembleWriter.Layout

/// `ensemblegen merge`: combines one-member files (or files with a member dimension) that
/// agree on variable, grid and time into one CF ensemble file with a `realization` dimension,
/// streaming member by member (memory: one member).
public enum MergePipeline {
    /// What to merge and how.
    public struct Options: Sendable {
        public var inputs: [String]
        public var output: String
        /// Data variable name; nil selects the single field-like variable.
        public var variable: String?
        /// zlib deflate level of the output, 1–4.
        /// Chunk shape and deflate level of the output's data variable.
        public var storage: OutputStorage
        /// The command line recorded in `history`.
        public var commandLine: [String]
        /// Dimension order of the output.
        public var layout: EnsembleWriter.Layout

        public init(inputs: [String], output: String, variable: String? = nil, storage: OutputStorage = OutputStorage(),
                    commandLine: [String] = CommandLine.arguments, layout: EnsembleWriter.Layout = .timeFirst) {
            self.inputs = inputs
            self.output = output
            self.variable = variable
            self.storage = storage
            self.commandLine = commandLine
            self.layout = layout
        }
    }

    /// What was written.
    public struct Result: Sendable {
        public var output: String
        public var variable: String
        public var members: [String]
        public var timeCount: Int
        public var grid: Grid
        public var missingFraction: Double
        /// Size of the output file in bytes.
        public var bytes: Int

        public var text: String {
            "wrote \(output): \(variable)(realization=\(members.count), time=\(timeCount), lat=\(grid.latitudeCount), lon=\(grid.longitudeCount)), "
                + "\(String(format: "%.3f", 100 * missingFraction)) % missing, \(bytes) bytes"
        }
    }

    /// Runs the merge. `progress(done, total)` is called after each member.
    /// - Throws: `CFError`/`NetCDFError` naming the file and variable; no output file is left
    ///   behind on error.
    public static func run(_ options: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        try OutputFile.checkDestination(options.output, inputs: options.inputs)
        let reader = try EnsembleReader(paths: options.inputs, variable: options.variable, requirements: .inspection)
        defer { try? reader.close() }
        let attributes = mergedAttributes(reader, options: options)
        let writer = try EnsembleWriter(path: options.output, variable: reader.variable, grid: reader.grid, time: reader.time,
                                        members: reader.members, attributes: attributes, storage: options.storage,
                                        layout: options.layout, inputs: options.inputs)
        var buffer = [Float](repeating: 0, count: reader.valuesPerMember)
        var missing = 0
        for m in 0..<reader.memberCount {
            let gaps = try buffer.withUnsafeMutableBufferPointer { try reader.readMember(m, into: $0) }
            // Missing cells are copied as missing; a member with no value at all is a mistake.
            guard gaps < reader.valuesPerMember else {
                throw CFError(file: reader.paths.count == 1 ? reader.paths[0] : options.inputs.joined(separator: ", "), variable: reader.variable.name,
                              "member \(reader.members[m]) has no valid value (all missing or outside valid_range); check _FillValue and valid_range")
            }
            missing += gaps
            try buffer.withUnsafeBufferPointer { try writer.write(member: m, timeStart: 0, values: $0) }
            progress?(m + 1, reader.memberCount)
        }
        try writer.finish()
        let bytes = (try? FileManager.default.attributesOfItem(atPath: options.output)[.size] as? Int) ?? 0
        return Result(output: options.output, variable: reader.variable.name, members: reader.members,
                      timeCount: reader.timeCount, grid: reader.grid,
                      missingFraction: Double(missing) / Double(max(1, reader.memberCount * reader.valuesPerMember)),
                      bytes: bytes)
    }

    /// Global attributes of each input that are never copied: those the merge writes itself,
    /// and those describing one member or one file (`variant_label`, `tracking_id` …) even when
    /// all inputs share them.
    static let notCopied: Set<String> = [
        "Conventions", "title", "institution", "source", "history", "references", "comment", "external_variables",
        "variant_label", "realization_index", "tracking_id", "creation_date", "further_info_url", "name",
        "CDI", "CDO", "NCO", "nco_openmp_thread_number", "merged_from",
    ]

    /// The output's attributes: the inputs' common global attributes (CMIP `source_id`,
    /// `experiment_id`, `parent_*`, `license` …) with valid CF names, their `institution`,
    /// `source` and `references` when common, the scalar coordinates, `cell_methods` and
    /// `cell_measures` of the data, and the history: one new line (absolute paths, version and
    /// commit) before the inputs' history, kept once when all share it, else the first
    /// input's, which the new line says.
    static func mergedAttributes(_ reader: EnsembleReader, options: Options) -> OutputAttributes {
        let (common, corrections) = reader.verifiedCommonGlobalAttributes
        func text(_ name: String) -> String? { common.first { $0.name == name }?.value.text }
        let histories = reader.globalAttributes.map { file in file.first { $0.name == "history" }?.value.text ?? "" }
        let shared = Set(histories).count == 1
        let notes = corrections + (shared ? [] : ["the older history below is that of \(EnsembleGenVersion.absolutePath(options.inputs[0])) (the inputs' histories differ)"])
        let note = notes.isEmpty ? nil : notes.joined(separator: "; ")
        let line = EnsembleGenVersion.historyLine(commandLine: options.commandLine, files: options.inputs + [options.output], note: note)
        let emulated = [text("source_id"), text("experiment_id")].compactMap { $0 }.joined(separator: " ")
        var attributes = OutputAttributes(
            title: "\(reader.variable.longName ?? reader.variable.name) ensemble of \(reader.memberCount) members"
                + (emulated.isEmpty ? "" : " of \(emulated)"),
            institution: text("institution") ?? "",
            source: (text("source").map { $0 + "; " } ?? "") + "members merged by EnsembleGen \(EnsembleGenVersion.string)",
            history: OutputAttributes.history(prepending: line, to: histories[0]),
            references: text("references") ?? "",
            extra: [("merged_from", .text(options.inputs.map { ($0 as NSString).lastPathComponent }.joined(separator: " ")))]
                + common.filter { !notCopied.contains($0.name) && isCFName($0.name) })
        attributes.scalarCoordinates = reader.scalarCoordinates
        attributes.cellMeasures = reader.cellMeasures
        return attributes
    }

    /// CF names: a letter, then letters, digits and underscores (e.g. not `cmip6-ng`).
    static func isCFName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, CharacterSet.letters.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }
}
