import Foundation
import NetCDF

/// Reads an ensemble of a gridded temperature variable from CF NetCDF, either from one file
/// with a member dimension (`realization`, `member`, `ensemble`, `number`) or from several
/// files (one or more members each) that agree on variable, grid and time.
///
/// What the reader does to the data, whatever the file holds: latitude ascending S→N,
/// longitude ascending in [0, 360) (data reordered accordingly), `scale_factor`/`add_offset`
/// unpacked, `_FillValue`/`missing_value`/`valid_*` → NaN, units converted to K, Float32,
/// dimension order (member, time, lat, lon).
///
/// Streaming: `readMember(_:times:)` reads one member (or part of its time series), so an
/// ensemble larger than memory can be processed member by member. At most one file is
/// open at a time.
///
/// Not thread-safe (netcdf-c is not).
public final class EnsembleReader {
    /// The data variable (units always `K`).
    public let variable: VariableMetadata
    /// The grid in program order.
    public let grid: Grid
    /// The time axis of the first file (all files share the same dates).
    public let time: TimeAxis
    /// Member labels, in reading order across files.
    public let members: [String]
    /// Input files in the order given.
    public let paths: [String]
    /// `units` attribute of the data variable in the (first) file, before conversion to K.
    public let sourceUnits: String
    /// Scalar coordinates of the first file: named in the data variable's `coordinates`, or
    /// scalar variables with an `axis` (e.g. `height` = 2 m); outputs of the data carry them.
    public let scalarCoordinates: [ScalarCoordinate]
    /// Other scalar variables of the first file (not flags), which are not carried.
    public let droppedScalarCoordinates: [String]
    /// The data variable's `cell_measures` in the first file (e.g. `area: areacella`).
    public let cellMeasures: String?
    /// Global attributes of each file, in the order of `paths`.
    public let globalAttributes: [[(name: String, value: AttributeValue)]]
    /// What the data must satisfy (checked at opening and while reading).
    public let requirements: InputRequirements

    private let layouts: [CFFieldLayout]
    /// (layout index, member within that file) for every member.
    private let memberIndex: [(file: Int, member: Int)]
    private var openFile: (index: Int, file: NetCDFFile)?

    public var memberCount: Int { members.count }
    /// Where each file's fields are stored (dimension order, latitude and longitude order, unit).
    public var storedLayouts: [StoredFieldLayout] { layouts.map(StoredFieldLayout.init) }
    public var timeCount: Int { time.count }
    /// Values per member: time × lat × lon.
    public var valuesPerMember: Int { time.count * grid.cellCount }

    /// Opens one file (with or without a member dimension).
    /// - Parameters:
    ///   - variable: the data variable's name; nil selects the single field-like variable.
    ///   - requirements: what the command needs of the data (frequency, complete fields).
    public convenience init(path: String, variable: String? = nil, requirements: InputRequirements) throws {
        try self.init(paths: [path], variable: variable, requirements: requirements)
    }

    /// Opens several files whose members are concatenated in the order given.
    /// - Throws: `CFError` naming both files when a file's variable, grid or time axis differs
    ///   from the first file's, or when the time axis does not meet `requirements`;
    ///   `NetCDFError` for unreadable files.
    public init(paths: [String], variable: String? = nil, requirements: InputRequirements) throws {
        guard !paths.isEmpty else { throw CFError(file: "", "no input files") }
        var layouts: [CFFieldLayout] = []
        var firstFile: NetCDFFile?
        for path in paths {
            let file = try NetCDFFile.open(path)
            let layout = try CFFieldLayout(file: file, variableName: variable)
            if let reference = layouts.first {
                try EnsembleReader.checkCompatible(layout, with: reference)
            } else {
                try requirements.check(layout)
            }
            layouts.append(layout)
            if firstFile == nil { firstFile = file } else { try file.close() }
        }
        let reference = layouts[0]
        self.variable = reference.variable
        self.grid = reference.grid
        self.time = reference.time
        self.sourceUnits = reference.sourceUnits
        self.scalarCoordinates = reference.scalarCoordinates
        self.droppedScalarCoordinates = reference.droppedScalarCoordinates
        self.cellMeasures = reference.cellMeasures
        self.globalAttributes = layouts.map(\.globalAttributes)
        self.paths = paths
        self.requirements = requirements
        self.layouts = layouts
        var labels: [String] = [], index: [(Int, Int)] = []
        for (f, l) in layouts.enumerated() {
            for (m, label) in l.members.enumerated() { labels.append(label); index.append((f, m)) }
        }
        // Several single-member files without distinct labels: fall back to 0, 1, 2 …
        self.members = Set(labels).count == labels.count ? labels : labels.indices.map(String.init)
        self.memberIndex = index
        if let f = firstFile { openFile = (0, f) }
    }

    deinit { try? openFile?.file.close() }

    /// The global attributes every file has with the same value, in the first file's order:
    /// what is true of the whole ensemble (e.g. CMIP `source_id`, `experiment_id`), not of one
    /// member (`variant_label`, `tracking_id` …, which differ).
    private var commonGlobalAttributes: [(name: String, value: AttributeValue)] {
        guard let first = globalAttributes.first else { return [] }
        return first.filter { a in
            globalAttributes.dropFirst().allSatisfy { file in file.contains { $0.name == a.name && $0.value == a.value } }
        }
    }

    /// `commonGlobalAttributes` with what the data contradict corrected, and a note per
    /// correction: a CMIP `frequency` of `mon` on an annual time axis (as files averaged to
    /// annual means by a tool that kept the attributes have) becomes `yr`, and the reverse.
    public var verifiedCommonGlobalAttributes: (attributes: [(name: String, value: AttributeValue)], corrections: [String]) {
        var corrections: [String] = []
        let actual: String? = switch time.frequency {
        case .monthly: "mon"
        case .annual: "yr"
        default: nil
        }
        let attributes = commonGlobalAttributes.map { a -> (name: String, value: AttributeValue) in
            guard a.name == "frequency", let actual, let claimed = a.value.text, ["mon", "yr"].contains(claimed), claimed != actual else { return a }
            corrections.append("frequency \(claimed) corrected to \(actual): the time axis is \(time.frequency.rawValue)")
            return (a.name, .text(actual))
        }
        return (attributes, corrections)
    }

    /// The text of global attribute `name` in each file that has it, without repeats, in file order.
    public func globalText(_ name: String) -> [String] {
        var seen: [String] = []
        for file in globalAttributes {
            if let t = file.first(where: { $0.name == name })?.value.text?.trimmed(), !t.isEmpty, !seen.contains(t) { seen.append(t) }
        }
        return seen
    }

    /// Closes the open file (reading again reopens it).
    public func close() throws {
        let f = openFile
        openFile = nil
        try f?.file.close()
    }

    static func checkCompatible(_ l: CFFieldLayout, with r: CFFieldLayout) throws {
        if l.variable.name != r.variable.name {
            throw CFError(file: l.path, variable: l.variable.name, "variable differs from \(r.path) (\(r.variable.name))")
        }
        if !l.grid.matches(r.grid) {
            throw CFError(file: l.path, variable: l.variable.name,
                          "grid \(l.grid.summary) does not match the grid of \(r.path) (\(r.grid.summary))")
        }
        if l.time.count != r.time.count {
            throw CFError(file: l.path, variable: l.variable.name,
                          "\(l.time.count) time steps, but \(r.path) has \(r.time.count)")
        }
        if l.time.calendar != r.time.calendar {
            throw CFError(file: l.path, variable: l.variable.name,
                          "calendar \(l.time.calendar.cfName) differs from \(r.path) (\(r.time.calendar.cfName))")
        }
        let dl = l.time.dates, dr = r.time.dates
        if let k = dl.indices.first(where: { dl[$0] != dr[$0] }) {
            throw CFError(file: l.path, variable: l.variable.name,
                          "time step \(k) is \(dl[k]), but in \(r.path) it is \(dr[k])")
        }
    }

    private func file(_ index: Int) throws -> NetCDFFile {
        if let o = openFile, o.index == index { return o.file }
        try openFile?.file.close()
        openFile = nil
        let f = try NetCDFFile.open(layouts[index].path)
        openFile = (index, f)
        return f
    }

    /// Reads member `m` for `times` (all times when nil) into `out`, shape (time, lat, lon),
    /// kelvin, NaN where missing. Returns the number of missing values.
    @discardableResult
    public func readMember(_ m: Int, times: Range<Int>? = nil, into out: UnsafeMutableBufferPointer<Float>) throws -> Int {
        guard m >= 0, m < memberCount else {
            throw CFError(file: paths[0], variable: variable.name, "member \(m) outside 0..<\(memberCount)")
        }
        let (f, local) = memberIndex[m]
        return try layouts[f].read(from: try file(f), member: local, times: times ?? 0..<time.count, into: out,
                                   requirements: requirements)
    }

    /// Checks that `members` members of `times` time steps (all when nil), held `copies`
    /// times over, fit in this machine's memory, before anything is allocated.
    /// - Throws: `CFError` saying how much is needed and how to need less.
    public func requireMemory(members: Int, times: Int? = nil, copies: Double = 1) throws {
        let bytes = Double(members) * Double(times ?? time.count) * Double(grid.cellCount) * 4 * copies
        guard bytes > MemoryBudget.bytes else { return }
        throw CFError(file: paths[0], variable: variable.name,
                      String(format: "%d members × %d time steps × %d cells need %.1f GB of memory; this machine has %.1f GB: select fewer members or years",
                             members, times ?? time.count, grid.cellCount, bytes / 1e9, MemoryBudget.physical / 1e9))
    }

    /// Member `m` for `times` (all when nil): `times.count × lat × lon` Float32 values in K.
    public func readMember(_ m: Int, times: Range<Int>? = nil) throws -> [Float] {
        try requireMemory(members: 1, times: (times ?? 0..<time.count).count)
        let n = (times ?? 0..<time.count).count * grid.cellCount
        return try [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            try readMember(m, times: times, into: buffer)
            initialized = n
        }
    }

    /// Members `range` for `times`: shape (range.count, times.count, lat, lon).
    public func readMembers(_ range: Range<Int>, times: Range<Int>? = nil) throws -> [Float] {
        try requireMemory(members: range.count, times: (times ?? 0..<time.count).count)
        let perMember = (times ?? 0..<time.count).count * grid.cellCount
        let n = range.count * perMember
        return try [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            for (k, m) in range.enumerated() {
                try readMember(m, times: times, into: UnsafeMutableBufferPointer(rebasing: buffer[(k * perMember)..<((k + 1) * perMember)]))
            }
            initialized = n
        }
    }

    /// Reads members `members` (all when nil) over `times` (all when nil) into an `Ensemble`.
    public func readEnsemble(members range: Range<Int>? = nil, times: Range<Int>? = nil) throws -> Ensemble {
        let r = range ?? 0..<memberCount
        let t = times ?? 0..<time.count
        var axis = time
        axis.values = Array(time.values[t])
        axis.bounds = time.bounds.map { Array($0[t]) }
        return try Ensemble(variable: variable, grid: grid, time: axis, members: Array(members[r]),
                            data: try readMembers(r, times: t))
    }

    /// Reads a whole ensemble: one file with a member dimension, or several one-member files.
    public static func read(paths: [String], variable: String? = nil, requirements: InputRequirements) throws -> Ensemble {
        let reader = try EnsembleReader(paths: paths, variable: variable, requirements: requirements)
        defer { try? reader.close() }
        return try reader.readEnsemble()
    }
}
