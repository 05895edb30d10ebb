import NetCDF

/// What a coordinate variable describes, decided from its CF attributes (never its name,
/// except for the member dimension, which CF leaves unnamed).
enum CoordinateRole: Equatable {
    case latitude, longitude, time, member
}

enum CFConventions {
    static let northUnits: Set<String> = ["degrees_north", "degree_north", "degree_N", "degrees_N", "degreeN", "degreesN"]
    static let eastUnits: Set<String> = ["degrees_east", "degree_east", "degree_E", "degrees_E", "degreeE", "degreesE"]
    /// Dimension names used for ensemble members by CMIP, ECMWF (`number`) and others.
    static let memberDimensionNames: Set<String> = ["realization", "member", "ensemble", "number", "ensemble_member"]

    /// Role of coordinate variable `v` (a 1-D variable named like its dimension), or nil.
    static func role(of v: Variable) throws -> CoordinateRole? {
        let standardName = try v.attribute("standard_name")?.text?.trimmed()
        let units = try v.attribute("units")?.text?.trimmed()
        let axis = try v.attribute("axis")?.text?.trimmed().uppercased()
        let plainDegrees = units == nil || units == "degrees" || units == "degree"
        if standardName == "latitude" || units.map(northUnits.contains) == true { return .latitude }
        if standardName == "longitude" || units.map(eastUnits.contains) == true { return .longitude }
        if standardName == "time" || axis == "T" || units?.contains(" since ") == true { return .time }
        if standardName == "realization" || memberDimensionNames.contains(v.name) { return .member }
        // Axis alone counts only without a conflicting standard_name (e.g. grid_latitude of a
        // rotated-pole grid, which is not geographic latitude).
        if standardName == nil, axis == "Y", plainDegrees { return .latitude }
        if standardName == nil, axis == "X", plainDegrees { return .longitude }
        return nil
    }

    /// Roles of every dimension that has a coordinate variable (or a member-like name).
    static func dimensionRoles(in file: NetCDFFile) throws -> [String: CoordinateRole] {
        var roles: [String: CoordinateRole] = [:]
        for d in try file.dimensions() {
            if let v = try file.variable(d.name), v.rank == 1, v.dimensions[0].name == d.name {
                if let r = try role(of: v) { roles[d.name] = r }
            } else if memberDimensionNames.contains(d.name) {
                roles[d.name] = .member
            }
        }
        return roles
    }

    /// Reads the `(n, 2)` bounds variable named by `v`'s `bounds` attribute, if any.
    static func bounds(of v: Variable, count n: Int) throws -> [[Double]]? {
        guard let name = try v.attribute("bounds")?.text?.trimmed(), !name.isEmpty else { return nil }
        guard let b = try v.file.variable(name) else {
            throw CFError(file: v.file.path, variable: v.name, "bounds variable '\(name)' does not exist")
        }
        guard try b.shape() == [n, 2] else {
            throw CFError(file: v.file.path, variable: name, "bounds have shape \(try b.shape()), expected [\(n), 2]")
        }
        let flat = try b.read(Double.self)
        return (0..<n).map { [flat[2 * $0], flat[2 * $0 + 1]] }
    }
}

/// A grid read from a file, with the reordering that puts the file's data in program order.
struct HorizontalLayout {
    let grid: Grid
    let latitudeDimension: String
    let longitudeDimension: String
    /// `latitudeSource[j]` is the file index of program latitude `j` (reversed for N→S files).
    let latitudeSource: [Int]
    /// `longitudeSource[i]` is the file index of program longitude `i` (rolled for −180…180 files).
    let longitudeSource: [Int]

    /// Reads the 1-D latitude and longitude coordinate variables `latitude` and `longitude`
    /// with their bounds and converts them to program order.
    init(latitude: Variable, longitude: Variable) throws {
        let path = latitude.file.path
        let lat = try latitude.read(Double.self), lon = try longitude.read(Double.self)
        guard !lat.isEmpty, !lon.isEmpty else { throw CFError(file: path, variable: latitude.name, "empty coordinate") }
        guard lat.allSatisfy({ $0.isFinite && abs($0) <= 90 }) else {
            throw CFError(file: path, variable: latitude.name, "latitude values outside [-90, 90]")
        }
        guard lon.allSatisfy({ $0.isFinite }) else { throw CFError(file: path, variable: longitude.name, "non-finite longitude") }

        // Latitude: ascending S→N.
        let ascending = zip(lat, lat.dropFirst()).allSatisfy { $0 < $1 }
        let descending = zip(lat, lat.dropFirst()).allSatisfy { $0 > $1 }
        guard ascending || descending else {
            throw CFError(file: path, variable: latitude.name, "latitudes are not monotonic")
        }
        let latOrder = ascending ? Array(lat.indices) : Array(lat.indices.reversed())
        let latBounds = try CFConventions.bounds(of: latitude, count: lat.count)
            .map { b in latOrder.map { [min(b[$0][0], b[$0][1]), max(b[$0][0], b[$0][1])] } }

        // Longitude: into [0, 360), then sorted (a roll for −180…180 grids).
        let shifts = lon.map { x -> Double in
            var y = x.truncatingRemainder(dividingBy: 360)
            if y < 0 { y += 360 }
            if y >= 360 { y -= 360 }
            return y - x
        }
        let normalised = zip(lon, shifts).map { $0 + $1 }
        let lonOrder = normalised.indices.sorted { normalised[$0] < normalised[$1] }
        let sortedLon = lonOrder.map { normalised[$0] }
        if let dup = zip(sortedLon, sortedLon.dropFirst()).first(where: { $0 >= $1 }) {
            throw CFError(file: path, variable: longitude.name, "longitude \(dup.0) appears twice (modulo 360)")
        }
        let lonBounds = try CFConventions.bounds(of: longitude, count: lon.count).map { b in
            lonOrder.map { i -> [Double] in
                let a = b[i][0] + shifts[i], c = b[i][1] + shifts[i]
                return [min(a, c), max(a, c)]
            }
        }
        grid = try attributing(path, latitude.name + ", " + longitude.name) {
            try Grid(latitudes: latOrder.map { lat[$0] }, longitudes: sortedLon,
                     latitudeBounds: latBounds, longitudeBounds: lonBounds)
        }
        latitudeDimension = latitude.dimensions[0].name
        longitudeDimension = longitude.dimensions[0].name
        latitudeSource = latOrder
        longitudeSource = lonOrder
    }
}

extension Grid {
    /// The latitude–longitude grid of a CF file: the 1-D coordinate variables recognised as
    /// latitude and longitude (by `standard_name`, `units` such as `degrees_north`, or `axis`),
    /// with bounds from their `bounds` variables or derived from midpoints, converted to
    /// latitude ascending and longitude ascending in [0, 360).
    /// - Throws: `CFError` when no latitude or longitude coordinate is found, or it is invalid.
    public init(netCDF file: NetCDFFile) throws {
        let roles = try CFConventions.dimensionRoles(in: file)
        guard let latName = roles.first(where: { $0.value == .latitude })?.key,
              let lat = try file.variable(latName) else {
            throw CFError(file: file.path, "no latitude coordinate (looked for standard_name latitude, units degrees_north, axis Y)")
        }
        guard let lonName = roles.first(where: { $0.value == .longitude })?.key,
              let lon = try file.variable(lonName) else {
            throw CFError(file: file.path, "no longitude coordinate (looked for standard_name longitude, units degrees_east, axis X)")
        }
        self = try HorizontalLayout(latitude: lat, longitude: lon).grid
    }
}
