import Climate
import Foundation

/// A semantic summary of a CF temperature file (or of several one-member files read as one
/// ensemble): what `ensemblegen info` prints.
public struct EnsembleInfo: Sendable {
    /// Files summarised.
    public var paths: [String]
    /// The data variable (units after conversion: K).
    public var variable: VariableMetadata
    /// The variable's `units` attribute as found in the file.
    public var sourceUnits: String
    public var grid: Grid
    public var time: TimeAxis
    public var members: [String]
    /// Number of values and of missing ones over all members and times.
    public var valueCount: Int
    public var missingCount: Int
    /// Smallest and largest valid value, K (NaN when every value is missing).
    public var minimum: Double
    public var maximum: Double
    /// Area-weighted mean over all valid values, K.
    public var areaWeightedMean: Double
    /// Scalar variables the reader does not carry (not coordinates of the data).
    public var droppedScalarCoordinates: [String]
    /// Scalar coordinates carried to outputs, e.g. `height = 2 m`.
    public var scalarCoordinates: [ScalarCoordinate] = []
    /// The first file's CMIP identity (`source_id`, `experiment_id`), when it has one.
    public var sourceID: String?
    public var experimentID: String?

    /// Fraction of missing values, in [0, 1].
    public var missingFraction: Double { valueCount > 0 ? Double(missingCount) / Double(valueCount) : 0 }

    /// Reads `paths` (one file, or several one-member files that must agree) member by member
    /// and summarises them. Memory use is one member's data.
    public static func inspect(paths: [String], variable: String? = nil) throws -> EnsembleInfo {
        let reader = try EnsembleReader(paths: paths, variable: variable, requirements: .inspection)
        defer { try? reader.close() }
        let weights = reader.grid.areaWeights
        let cells = reader.grid.cellCount
        try reader.requireMemory(members: 1)
        var buffer = [Float](repeating: 0, count: reader.valuesPerMember)
        var missing = 0, lo = Double.infinity, hi = -Double.infinity
        var weightedSum = 0.0, weightTotal = 0.0
        for m in 0..<reader.memberCount {
            missing += try buffer.withUnsafeMutableBufferPointer { try reader.readMember(m, into: $0) }
            for (k, x) in buffer.enumerated() where !x.isNaN {
                let v = Double(x)
                lo = min(lo, v)
                hi = max(hi, v)
                weightedSum += weights[k % cells] * v
                weightTotal += weights[k % cells]
            }
        }
        return EnsembleInfo(paths: paths, variable: reader.variable, sourceUnits: reader.sourceUnits, grid: reader.grid,
                            time: reader.time, members: reader.members,
                            valueCount: reader.memberCount * reader.valuesPerMember, missingCount: missing,
                            minimum: lo.isFinite ? lo : .nan, maximum: hi.isFinite ? hi : .nan,
                            areaWeightedMean: weightTotal > 0 ? weightedSum / weightTotal : .nan,
                            droppedScalarCoordinates: reader.droppedScalarCoordinates, scalarCoordinates: reader.scalarCoordinates,
                            sourceID: reader.globalText("source_id").first, experimentID: reader.globalText("experiment_id").first)
    }

    /// Multi-line human-readable summary.
    public var text: String {
        func g(_ x: Double) -> String { String(format: "%g", x) }
        let v = variable
        var names = [v.standardName, v.longName.map { "\"\($0)\"" }].compactMap { $0 }.joined(separator: ", ")
        if !names.isEmpty { names = " (\(names))" }
        let unitNote = sourceUnits == "K" ? "K" : "K (converted from \(sourceUnits))"
        let global = grid.isGlobal ? ", global" : ", regional (the models need a global grid)"
        let dates = time.dates
        let years = time.years
        let timeLine: String
        if let first = dates.first, let last = dates.last, let y0 = years.first, let y1 = years.last {
            let step = time.stepDescription
            let yearText = y0 == y1 ? "\(y0)" : "\(y0)–\(y1)"
            timeLine = "\(time.count) \(step) steps, \(yearText) (\(first.dateString) … \(last.dateString)), units \"\(time.units.cfString)\""
        } else {
            timeLine = "no time steps"
        }
        let shownMembers = members.count <= 6 ? members.joined(separator: ", ")
            : (members.prefix(5) + ["…", members[members.count - 1]]).joined(separator: ", ")
        var lines = [
            paths.count == 1 ? paths[0] : "\(paths.count) files: \(paths.joined(separator: ", "))",
            "  variable   \(v.name)\(names), units \(unitNote)" + (v.cellMethods.map { ", cell_methods \"\($0)\"" } ?? ""),
            "  grid       \(grid.latitudeCount) × \(grid.longitudeCount) (lat × lon), \(grid.spacingDescription), "
                + "\(grid.extentDescription)\(global)",
            "  calendar   \(time.calendar.cfName)",
            "  time       \(timeLine)",
            "  members    \(members.count): \(shownMembers)",
            "  missing    \(missingCount) of \(valueCount) values (\(String(format: "%.3f", 100 * missingFraction)) %)",
            minimum.isNaN ? "  values     none: every value is missing (check _FillValue, missing_value and valid_range)"
                : "  values     min \(String(format: "%.2f", minimum)) K, area-weighted mean \(String(format: "%.2f", areaWeightedMean)) K, max \(String(format: "%.2f", maximum)) K",
        ]
        if !scalarCoordinates.isEmpty {
            let described = scalarCoordinates.map { c in
                "\(c.name) = \(g(c.value))" + (c.attributes.first { $0.name == "units" }.map { " " + $0.value } ?? "")
            }
            lines.append("  scalar     \(described.joined(separator: ", "))")
        }
        if let s = sourceID {
            lines.append("  source_id  \(s)" + (experimentID.map { ", experiment_id \($0)" } ?? ""))
        }
        if !droppedScalarCoordinates.isEmpty {
            lines.append("  dropped    scalar coordinate\(droppedScalarCoordinates.count > 1 ? "s" : "") \(droppedScalarCoordinates.joined(separator: ", "))")
        }
        return lines.joined(separator: "\n")
    }
}
