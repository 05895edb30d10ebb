/// Metadata of a gridded data variable (what the CF reader found, what the writer writes).
public struct VariableMetadata: Equatable, Codable, Sendable {
    /// Variable name in the file, e.g. `tas`.
    public var name: String
    /// CF `standard_name`, e.g. `air_temperature`.
    public var standardName: String?
    /// CF `long_name`, e.g. `Near-Surface Air Temperature`.
    public var longName: String?
    /// Units of the data in memory: always `K` for data from the reader.
    public var units: String
    /// CF `cell_methods`, e.g. `time: mean`.
    public var cellMethods: String?

    public init(name: String, standardName: String? = nil, longName: String? = nil,
                units: String = "K", cellMethods: String? = nil) {
        self.name = name
        self.standardName = standardName
        self.longName = longName
        self.units = units
        self.cellMethods = cellMethods
    }

    /// Near-surface air temperature `tas` in K, monthly or annual means.
    public static let nearSurfaceAirTemperature = VariableMetadata(
        name: "tas", standardName: "air_temperature", longName: "Near-Surface Air Temperature",
        units: "K", cellMethods: "time: mean")
}

/// An ensemble of gridded fields held in memory: `data` is Float32, row-major, shape
/// (member, time, lat, lon), in the variable's units (K); missing values are NaN.
///
/// For ensembles too large for memory, read with `EnsembleReader` member by member and write
/// with `EnsembleWriter`.
public struct Ensemble: Equatable, Sendable {
    /// The data variable's metadata.
    public var variable: VariableMetadata
    /// Latitude–longitude grid (latitude ascending, longitude ascending in [0, 360)).
    public var grid: Grid
    /// Time coordinate.
    public var time: TimeAxis
    /// One label per member (e.g. `0`, `1` … or `r1i1p1f1`).
    public var members: [String]
    /// Values, shape (members.count, time.count, grid.latitudeCount, grid.longitudeCount).
    public var data: [Float]

    public enum ShapeError: Error, CustomStringConvertible, Equatable {
        case wrongCount(expected: Int, got: Int)
        public var description: String {
            switch self {
            case let .wrongCount(e, g): return "ensemble data hold \(g) values, shape needs \(e)"
            }
        }
    }

    /// - Throws: `ShapeError` when `data.count` is not members × times × lat × lon.
    public init(variable: VariableMetadata, grid: Grid, time: TimeAxis, members: [String], data: [Float]) throws {
        let expected = members.count * time.count * grid.cellCount
        guard data.count == expected else { throw ShapeError.wrongCount(expected: expected, got: data.count) }
        self.variable = variable
        self.grid = grid
        self.time = time
        self.members = members
        self.data = data
    }

    public var memberCount: Int { members.count }
    public var timeCount: Int { time.count }
    /// Values per member: time × lat × lon.
    public var valuesPerMember: Int { time.count * grid.cellCount }

    /// One member's values, shape (time, lat, lon).
    public func member(_ m: Int) -> ArraySlice<Float> {
        data[(m * valuesPerMember)..<((m + 1) * valuesPerMember)]
    }

    /// One field, shape (lat, lon).
    public func field(member m: Int, time t: Int) -> ArraySlice<Float> {
        let start = m * valuesPerMember + t * grid.cellCount
        return data[start..<(start + grid.cellCount)]
    }

    /// Fraction of values that are missing (NaN), in [0, 1].
    public var missingFraction: Double {
        guard !data.isEmpty else { return 0 }
        return Double(data.lazy.filter { $0.isNaN }.count) / Double(data.count)
    }
}
