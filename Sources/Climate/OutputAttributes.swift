import Foundation
import NetCDF

/// Global attributes of a CF file written by `EnsembleWriter` (beyond `Conventions = "CF-1.8"`,
/// which is always written).
public struct OutputAttributes: Sendable {
    /// Short description of the file's content.
    public var title: String
    /// Where the data were produced.
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
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        let words = commandLine.map { w -> String in
            w.isEmpty || w.contains(where: { " \t\"'$\\".contains($0) }) ? "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'" : w
        }
        return "\(formatter.string(from: date)): \(words.joined(separator: " "))"
    }

    /// All global attributes in writing order.
    var all: [(name: String, value: AttributeValue)] {
        var list: [(name: String, value: AttributeValue)] = [
            ("Conventions", "CF-1.8"), ("title", .text(title)), ("institution", .text(institution)),
            ("source", .text(source)), ("history", .text(history)), ("references", .text(references)),
        ]
        if let c = comment { list.append(("comment", .text(c))) }
        let reserved = Set(list.map(\.name))
        list += extra.filter { !reserved.contains($0.name) }
        return list
    }
}
