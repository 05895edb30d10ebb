import NetCDF

/// How a file stores its data variable: dimension order, latitude and longitude order and
/// unit, so that fields in program order (time, lat S→N, lon from 0°, kelvin) can be written
/// back exactly as the file had them (`write`).
public struct StoredFieldLayout: Sendable {
    public let path: String
    public let variableName: String
    /// The data variable's dimensions, outermost first, and their lengths in the file.
    public let dimensionNames: [String]
    public let shape: [Int]
    public let timeAxis: Int, latitudeAxis: Int, longitudeAxis: Int
    public let memberAxis: Int?
    public let unit: TemperatureUnit
    /// The values are packed (`scale_factor`/`add_offset`).
    public let isPacked: Bool
    /// File index of each program latitude (south to north) and longitude (from 0° east).
    public let latitudeSource: [Int], longitudeSource: [Int]

    public init(path: String, variableName: String, dimensionNames: [String], shape: [Int], timeAxis: Int, latitudeAxis: Int,
                longitudeAxis: Int, memberAxis: Int?, unit: TemperatureUnit, isPacked: Bool, latitudeSource: [Int], longitudeSource: [Int]) {
        self.path = path; self.variableName = variableName; self.dimensionNames = dimensionNames; self.shape = shape
        (self.timeAxis, self.latitudeAxis, self.longitudeAxis, self.memberAxis) = (timeAxis, latitudeAxis, longitudeAxis, memberAxis)
        self.unit = unit; self.isPacked = isPacked
        self.latitudeSource = latitudeSource; self.longitudeSource = longitudeSource
    }

    init(_ layout: CFFieldLayout) {
        path = layout.path
        variableName = layout.variable.name
        dimensionNames = layout.dimensionNames
        shape = layout.fileShape
        (timeAxis, latitudeAxis, longitudeAxis, memberAxis) = (layout.timeAxis, layout.latitudeAxis, layout.longitudeAxis, layout.memberAxis)
        unit = layout.unit
        isPacked = layout.scale != 1 || layout.offset != 0
        (latitudeSource, longitudeSource) = (layout.latitudeSource, layout.longitudeSource)
    }

    /// Writes `fields` (times.count × lat × lon, program order, kelvin) as time steps
    /// `timeStart…` of member `member` (index along the member dimension; ignored without
    /// one) of `variable`, which has this layout's dimensions (member and time lengths may
    /// differ), converting to this layout's unit.
    public func write(_ fields: UnsafeBufferPointer<Float>, member: Int, timeStart: Int, timeCount: Int, to variable: Variable) throws {
        let ny = latitudeSource.count, nx = longitudeSource.count, cells = ny * nx
        guard fields.count == timeCount * cells, variable.rank == shape.count else {
            throw NetCDFError(path: variable.file.path, variable: variable.name,
                              message: "\(fields.count) values do not fill \(timeCount) fields of \(ny) × \(nx) in \(shape.count) dimensions")
        }
        let (start, count, st, sy, sx) = FieldBlock.hyperslab(rank: shape.count, timeAxis: timeAxis, latitudeAxis: latitudeAxis,
                                                             longitudeAxis: longitudeAxis, memberAxis: memberAxis, member: member,
                                                             timeStart: timeStart, timeCount: timeCount, rows: ny, columns: nx)
        var raw = [Double](repeating: 0, count: timeCount * cells)
        let unit = self.unit
        for t in 0..<timeCount {
            for j in 0..<ny {
                let rowTarget = t * st + latitudeSource[j] * sy, rowSource = (t * ny + j) * nx
                for i in 0..<nx {
                    raw[rowTarget + longitudeSource[i] * sx] = unit.fromKelvin(Double(fields[rowSource + i]))
                }
            }
        }
        try variable.write(raw, start: start, count: count)
    }
}

extension TimeAxis {
    /// The time coordinate of dimension `dimension` in `file` (units, calendar, bounds).
    public static func read(from file: NetCDFFile, dimension: String) throws -> TimeAxis {
        try CFFieldLayout.readTime(file: file, dimension: dimension)
    }
}

/// Where `timeCount` fields of one member sit in a data variable.
enum FieldBlock {
    /// The hyperslab's start and count, and the strides of the time, latitude and longitude
    /// axes in its values (C order).
    static func hyperslab(rank: Int, timeAxis: Int, latitudeAxis: Int, longitudeAxis: Int, memberAxis: Int?, member: Int,
                          timeStart: Int, timeCount: Int, rows: Int, columns: Int)
        -> (start: [Int], count: [Int], time: Int, latitude: Int, longitude: Int) {
        var start = [Int](repeating: 0, count: rank), count = [Int](repeating: 1, count: rank)
        start[timeAxis] = timeStart; count[timeAxis] = timeCount
        count[latitudeAxis] = rows; count[longitudeAxis] = columns
        if let m = memberAxis { start[m] = member }
        var strides = [Int](repeating: 1, count: rank)
        for k in stride(from: rank - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * count[k + 1] }
        return (start, count, strides[timeAxis], strides[latitudeAxis], strides[longitudeAxis])
    }
}
