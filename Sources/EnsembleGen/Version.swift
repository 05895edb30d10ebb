import Climate
import Foundation
import NetCDF

/// The EnsembleGen release and the git commit it was built from, written into every output
/// file's `source`/`history` attributes and printed by `ensemblegen --version`.
public enum EnsembleGenVersion {
    /// The release number.
    public static let number = "0.1.0"
    /// The short git commit of the sources (`-dirty` with uncommitted changes), or `unknown`
    /// when built outside a git checkout. Written at build time by the BuildCommit plugin.
    public static let commit = BuildCommit.commit
    /// `0.1.0 (commit 1a2b3c4d5e6f)`.
    public static let string = "\(number) (commit \(commit))"
}

extension EnsembleGenVersion {
    /// The `history` line of one command (CF/NCO convention):
    /// `2026-12-03T04:05:06Z: ensemblegen merge /data/a.nc /data/b.nc --output /out/ens.nc (EnsembleGen 0.1.0, commit 1a2b3c4d5e6f)`:
    /// the UTC time, the command line with every argument that names one of `files` (or an
    /// existing file) made absolute, and the version and commit of the tool; `note`, when
    /// given, follows after a semicolon.
    public static func historyLine(commandLine: [String], files: [String] = [], note: String? = nil, date: Date = Date()) -> String {
        let known = Set(files)
        func absolute(_ path: String) -> String {
            guard !path.isEmpty, known.contains(path) || FileManager.default.fileExists(atPath: path) else { return path }
            return URL(fileURLWithPath: path).standardizedFileURL.path
        }
        let words = commandLine.enumerated().map { k, word -> String in
            guard k > 0 else { return word }
            if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
                return String(word[...equals]) + absolute(String(word[word.index(after: equals)...]))
            }
            return absolute(word)
        }
        return OutputAttributes.historyLine(commandLine: words, date: date)
            + " (EnsembleGen \(number), commit \(commit))" + (note.map { "; " + $0 } ?? "")
    }

    /// `creation_date` (ISO 8601 UTC), `software` and `software_commit`: the global
    /// attributes every ensemble file the tool writes carries.
    public static func creationAttributes(date: Date = Date()) -> [(name: String, value: AttributeValue)] {
        [("creation_date", .text(OutputAttributes.timestamp(date))), ("software", .text("EnsembleGen \(number)")),
         ("software_commit", .text(commit))]
    }

    /// `path` made absolute (for provenance attributes).
    public static func absolutePath(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}
