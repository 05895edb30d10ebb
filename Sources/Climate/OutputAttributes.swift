import Foundation
import NetCDF

/// Global attributes of a CF file written by `EnsembleWriter` (beyond `Conventions = "CF-1.8"`,
/// which is always written).
public struct OutputAttributes: Sendable {
    /// Short description of the file's content.
    public var title: String
    /// Where the data were produced; empty: not written (e.g. for emulated data, which no
    /// institution produced).
    public var institution: String
    /// How the data were produced, e.g. `EnsembleGen 0.1.0, transformer, DDIM 50 steps`.
    public var source: String
    /// Provenance: one line per processing step, newest first (`<UTC time>: <command line>`).
    public var history: String
    /// Published references for the method.
    public var references: String
    /// Free-text comment, written when not nil.
    public var comment: String?
    /// Further global attributes in order, e.g. `conditioning_member`, `seed`,
    /// `checkpoint_sha256`. They may not replace the attributes above.
    public var extra: [(name: String, value: AttributeValue)]
    /// Scalar coordinates of the data (e.g. `height` = 2 m), written as scalar variables named
    /// in the data variable's `coordinates` attribute.
    public var scalarCoordinates: [ScalarCoordinate] = []
    /// The data variable's `cell_measures` (e.g. `area: areacella`), written with the global
    /// `external_variables` naming the measure variables, which the file does not hold (CMIP
    /// practice); nil writes neither.
    public var cellMeasures: String?

    public init(title: String, institution: String = "unknown", source: String,
                history: String = OutputAttributes.historyLine(), references: String = "",
                comment: String? = nil, extra: [(name: String, value: AttributeValue)] = []) {
        self.title = title
        self.institution = institution
        self.source = source
        self.history = history
        self.references = references
        self.comment = comment
        self.extra = extra
    }

    /// A `history` line: `2026-11-23T00:45:00Z: ensemblegen merge a.nc b.nc --output ens.nc`
    /// (UTC time, then the full command line with arguments containing spaces quoted).
    public static func historyLine(commandLine: [String] = CommandLine.arguments, date: Date = Date()) -> String {
        let words = commandLine.map { w -> String in
            w.isEmpty || w.contains(where: { " \t\"'$\\".contains($0) }) ? "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'" : w
        }
        return "\(timestamp(date)): \(words.joined(separator: " "))"
    }

    /// `line` followed by the inputs' `history` (CF/NCO convention: newest first, one line per
    /// step); `line` alone when there is no earlier history.
    public static func history(prepending line: String, to previous: String?) -> String {
        let earlier = previous?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return earlier.isEmpty ? line : line + "\n" + earlier
    }

    /// An ISO 8601 UTC time stamp (`2026-12-03T04:05:06Z`), e.g. for `creation_date`.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// The variables named by `cellMeasures` (`areacella` of `area: areacella`).
    var measureVariables: [String] {
        guard let text = cellMeasures else { return [] }
        let words = text.split(separator: " ").map(String.init)
        return words.indices.filter { $0 > 0 && words[$0 - 1].hasSuffix(":") }.map { words[$0] }
    }

    /// All global attributes in writing order (`institution` only when not empty).
    var all: [(name: String, value: AttributeValue)] {
        var list: [(name: String, value: AttributeValue)] = [("Conventions", "CF-1.8"), ("title", .text(title))]
        if !institution.isEmpty { list.append(("institution", .text(institution))) }
        list += [("source", .text(source)), ("history", .text(history)), ("references", .text(references))]
        if let c = comment { list.append(("comment", .text(c))) }
        if !measureVariables.isEmpty { list.append(("external_variables", .text(measureVariables.joined(separator: " ")))) }
        let reserved = Set(list.map(\.name))
        list += extra.filter { !reserved.contains($0.name) }
        return list
    }
}

/// A CF scalar coordinate variable (CF 5.7), e.g. `height` = 2 m of near-surface temperature:
/// carried from the input to the output where it still holds.
public struct ScalarCoordinate: Sendable, Equatable {
    /// Variable name, e.g. `height`.
    public var name: String
    public var value: Double
    /// Text attributes in order (`standard_name`, `long_name`, `units`, `positive`, `axis` …).
    public var attributes: [Attribute]

    /// One text attribute.
    public struct Attribute: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    public init(name: String, value: Double, attributes: [Attribute]) {
        self.name = name
        self.value = value
        self.attributes = attributes
    }

    /// `height = 2 m`: the CMIP height of near-surface air temperature (`tas`).
    public static let nearSurfaceHeight = ScalarCoordinate(
        name: "height", value: 2,
        attributes: [.init("standard_name", "height"), .init("long_name", "height"), .init("units", "m"),
                     .init("positive", "up"), .init("axis", "Z")])

    /// `height = 2 m` for near-surface air temperature (`standard_name = air_temperature`), else none.
    public static func standard(for variable: VariableMetadata) -> [ScalarCoordinate] {
        variable.standardName == "air_temperature" ? [nearSurfaceHeight] : []
    }
}
