import CNetCDF
import NetCDF

/// Everything needed to read one CF data variable of one file into program order and units:
/// which dimension is which, how to reorder latitude/longitude, how to unpack and mask.
struct CFFieldLayout {
    let path: String
    let variable: VariableMetadata
    /// The `units` attribute as found in the file.
    let sourceUnits: String
    let unit: TemperatureUnit
    let grid: Grid
    let time: TimeAxis
    /// Member labels (one, for a file without a member dimension).
    let members: [String]
    /// Data variable dimension lengths in file order.
    let fileShape: [Int]
    /// Data variable dimension names in file order.
    let dimensionNames: [String]
    let timeAxis: Int, latitudeAxis: Int, longitudeAxis: Int
    let memberAxis: Int?
    let latitudeSource: [Int], longitudeSource: [Int]
    let scale: Double, offset: Double
    /// Raw (packed) values that mean "missing": `_FillValue`, `missing_value` or the default fill.
    let missingValues: [Double]
    let validMin: Double, validMax: Double
    /// Scalar coordinates named in the data variable's `coordinates` or with an `axis` (such as `height`).
    let scalarCoordinates: [ScalarCoordinate]
    /// Other scalar variables (not flags), which are not carried.
    let droppedScalarCoordinates: [String]
    /// The data variable's `cell_measures`, e.g. `area: areacella`.
    let cellMeasures: String?
    /// The file's global attributes.
    let globalAttributes: [(name: String, value: AttributeValue)]

    /// Analyses `file`; `name` selects the data variable (otherwise the single field-like one).
    init(file: NetCDFFile, variableName name: String?) throws {
        path = file.path
        let roles = try CFConventions.dimensionRoles(in: file)
        let all = try file.variables()
        let v = try CFFieldLayout.selectVariable(all, roles: roles, requested: name, path: path)

        // Dimensions.
        var timeAxis: Int?, latAxis: Int?, lonAxis: Int?, memberAxis: Int?
        let shape = try v.shape()
        for (k, d) in v.dimensions.enumerated() {
            switch roles[d.name] {
            case .time?: timeAxis = k
            case .latitude?: latAxis = k
            case .longitude?: lonAxis = k
            case .member?: memberAxis = k
            case nil:
                guard shape[k] == 1 else {
                    throw CFError(file: path, variable: v.name,
                                  "dimension '\(d.name)' (length \(shape[k])) is not time, latitude, longitude or member; select one level first")
                }
            }
        }
        guard let t = timeAxis else { throw CFError(file: path, variable: v.name, "no time dimension (dimensions: \(v.dimensionNames.joined(separator: ", ")))") }
        guard let y = latAxis, let x = lonAxis else {
            throw CFError(file: path, variable: v.name, "no latitude/longitude dimensions (dimensions: \(v.dimensionNames.joined(separator: ", ")))")
        }
        (self.timeAxis, latitudeAxis, longitudeAxis, self.memberAxis) = (t, y, x, memberAxis)
        fileShape = shape
        dimensionNames = v.dimensionNames
        // One field is read at a time (as doubles): a header declaring more is refused here.
        let fieldBytes = Double(shape[y]) * Double(shape[x]) * 8, timeBytes = Double(shape[t]) * 8 * 3
        guard fieldBytes <= MemoryBudget.bytes / 4, timeBytes <= MemoryBudget.bytes / 4 else {
            throw CFError(file: path, variable: v.name, "declares \(shape[t]) time steps of \(shape[y]) × \(shape[x]) grid cells, more than this machine's memory can read; is the file damaged?")
        }

        // Grid and time.
        guard let latVar = try file.variable(v.dimensions[y].name), let lonVar = try file.variable(v.dimensions[x].name) else {
            throw CFError(file: path, variable: v.name, "latitude/longitude coordinate variables are missing")
        }
        let horizontal = try HorizontalLayout(latitude: latVar, longitude: lonVar)
        grid = horizontal.grid
        latitudeSource = horizontal.latitudeSource
        longitudeSource = horizontal.longitudeSource
        time = try CFFieldLayout.readTime(file: file, dimension: v.dimensions[t].name)
        members = try CFFieldLayout.memberLabels(file: file, memberDimension: memberAxis.map { v.dimensions[$0].name },
                                                 count: memberAxis.map { shape[$0] } ?? 1)

        // Metadata and units.
        func text(_ a: String) throws -> String? { try v.attribute(a)?.text?.trimmed() }
        guard let units = try text("units") else {
            throw CFError(file: path, variable: v.name, "no units attribute (a temperature in \(TemperatureUnit.recognisedSpellings) is expected)")
        }
        guard let unit = TemperatureUnit(cfUnits: units) else {
            throw CFError(file: path, variable: v.name,
                          "unknown unit '\(units)': not a temperature unit (recognised: \(TemperatureUnit.recognisedSpellings))")
        }
        sourceUnits = units
        self.unit = unit
        variable = VariableMetadata(name: v.name, standardName: try text("standard_name"), longName: try text("long_name"),
                                    units: "K", cellMethods: try text("cell_methods"))

        // Packing and missing values.
        let filePath = file.path
        func number(_ a: String) throws -> Double? {
            guard let attr = try v.attribute(a) else { return nil }
            guard let s = attr.scalar else { throw CFError(file: filePath, variable: v.name, "attribute \(a) must be one number, got \(attr)") }
            return s
        }
        scale = try number("scale_factor") ?? 1
        offset = try number("add_offset") ?? 0
        var missing: [Double] = []
        if let f = try v.attribute("_FillValue") {
            missing += f.doubles ?? []
        } else if let defaultFill = CFFieldLayout.defaultFill(v.dataType) {
            missing.append(defaultFill)
        }
        if let m = try v.attribute("missing_value") { missing += m.doubles ?? [] }
        missingValues = Array(Set(missing)).sorted()
        var lo = -Double.infinity, hi = Double.infinity
        if let r = try v.attribute("valid_range")?.doubles, r.count == 2 { (lo, hi) = (r[0], r[1]) }
        if let a = try number("valid_min") { lo = a }
        if let b = try number("valid_max") { hi = b }
        (validMin, validMax) = (lo, hi)
        cellMeasures = try text("cell_measures")
        let named = Set(try text("coordinates")?.split(separator: " ").map(String.init) ?? [])
        var scalars: [ScalarCoordinate] = [], dropped: [String] = []
        for s in all where s.rank == 0 && s.name != v.name {
            guard try s.attribute("flag_values") == nil else { continue }
            // Named in `coordinates`, or (as EnsembleWriter writes them beside time-first data) with an axis.
            let isCoordinate = try named.contains(s.name) || s.attribute("axis") != nil
            guard isCoordinate, s.dataType.isNumeric, let value = try s.read(Double.self).first, value.isFinite else {
                dropped.append(s.name)
                continue
            }
            let texts = try s.attributes().compactMap { a in a.value.text.map { ScalarCoordinate.Attribute(a.name, $0) } }
            scalars.append(ScalarCoordinate(name: s.name, value: value, attributes: texts.filter { $0.name != "bounds" }))
        }
        (scalarCoordinates, droppedScalarCoordinates) = (scalars, dropped)
        globalAttributes = try file.attributes()
    }

    /// netCDF's default fill value of a type (CF: applies when `_FillValue` is absent; not for bytes).
    static func defaultFill(_ type: DataType) -> Double? {
        switch type {
        case .float: return Double(NC_FILL_FLOAT)
        case .double: return NC_FILL_DOUBLE
        case .int16: return Double(NC_FILL_SHORT)
        case .int32: return Double(NC_FILL_INT)
        case .uint16: return Double(NC_FILL_USHORT)
        case .uint32: return Double(NC_FILL_UINT)
        default: return nil
        }
    }

    /// The data variable: `requested`, or the single field-like variable (≥ 3 dimensions, not a
    /// coordinate, bounds, flag or otherwise referenced variable, with latitude, longitude and
    /// time dimensions). With several candidates, the single temperature-like one is chosen.
    static func selectVariable(_ all: [Variable], roles: [String: CoordinateRole], requested: String?, path: String) throws -> Variable {
        if let name = requested {
            guard let v = all.first(where: { $0.name == name }) else {
                throw CFError(file: path, variable: name, "no such variable (variables: \(all.map(\.name).joined(separator: ", ")))")
            }
            return v
        }
        var referenced = Set<String>()
        for v in all {
            for a in ["bounds", "climatology", "coordinates", "ancillary_variables", "grid_mapping", "cell_measures"] {
                guard let t = try v.attribute(a)?.text else { continue }
                referenced.formUnion(t.split(whereSeparator: { $0 == " " || $0 == ":" }).map(String.init))
            }
        }
        var candidates: [Variable] = []
        for v in all where v.dataType.isNumeric && v.rank >= 3 && !referenced.contains(v.name) {
            guard try v.attribute("flag_values") == nil, try v.attribute("flag_meanings") == nil else { continue }
            let r = v.dimensions.compactMap { roles[$0.name] }
            if r.contains(.latitude) && r.contains(.longitude) && r.contains(.time) { candidates.append(v) }
        }
        if candidates.count == 1 { return candidates[0] }
        if candidates.isEmpty {
            throw CFError(file: path, "no temperature-like gridded variable (time, lat, lon) found (variables: \(all.map(\.name).joined(separator: ", ")))")
        }
        let temperatureLike = try candidates.filter { v in
            let units = try v.attribute("units")?.text.flatMap(TemperatureUnit.init(cfUnits:))
            let standardName = try v.attribute("standard_name")?.text ?? ""
            return units != nil || standardName.contains("temperature")
        }
        if temperatureLike.count == 1 { return temperatureLike[0] }
        throw CFError(file: path, "several data variables (\(candidates.map(\.name).joined(separator: ", "))); choose one by name")
    }

    static func readTime(file: NetCDFFile, dimension: String) throws -> TimeAxis {
        guard let tv = try file.variable(dimension), tv.rank == 1 else {
            throw CFError(file: file.path, variable: dimension, "time dimension has no coordinate variable")
        }
        guard let units = try tv.attribute("units")?.text else {
            throw CFError(file: file.path, variable: dimension, "time coordinate has no units")
        }
        let values = try tv.read(Double.self)
        let bounds = try CFConventions.bounds(of: tv, count: values.count)
        let calendar = try tv.attribute("calendar")?.text?.trimmed()
        return try attributing(file.path, dimension) {
            try TimeAxis(unitsString: units, calendarName: calendar, values: values, bounds: bounds)
        }
    }

    /// Whether `text` is a CMIP variant label `r<k>i<l>p<m>f<n>`.
    static func isVariantLabel(_ text: String) -> Bool {
        var rest = Substring(text)
        for letter in "ripf" {
            guard rest.first == letter else { return false }
            rest = rest.dropFirst()
            let digits = rest.prefix(while: \.isASCII).prefix(while: \.isNumber)
            guard !digits.isEmpty else { return false }
            rest = rest.dropFirst(digits.count)
        }
        return rest.isEmpty
    }

    /// Labels from a char label variable over the member dimension, else the member coordinate
    /// variable's `member_labels` attribute or values, else 0, 1, …; `variant_label` (CMIP) or the file name for single-member files.
    static func memberLabels(file: NetCDFFile, memberDimension: String?, count: Int) throws -> [String] {
        guard let dim = memberDimension else {
            if let label = try file.attribute("variant_label")?.text?.trimmed(), !label.isEmpty { return [label] }
            let base = file.path.split(separator: "/").last.map(String.init) ?? file.path
            let name = base.hasSuffix(".nc") ? String(base.dropLast(3)) : base
            // CMIP file names carry the variant label: tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_….
            return [name.split(whereSeparator: { "_.".contains($0) }).map(String.init).first(where: isVariantLabel) ?? name]
        }
        // A char label variable over the member dimension (e.g. `member_id(realization, n)`).
        if let labels = try file.variables().first(where: { $0.dataType == .char && $0.rank == 2 && $0.dimensions[0].name == dim }) {
            let text = try labels.readText()
            if text.count == count, Set(text).count == count, !text.contains("") { return text }
        }
        if let v = try file.variable(dim), v.rank == 1 {
            // Labels written by EnsembleWriter: `realization:member_labels = "r1i1p1f1 r2i1p1f1"`.
            if let text = try v.attribute("member_labels")?.text {
                let labels = text.split(separator: " ").map(String.init)
                if labels.count == count, Set(labels).count == count { return labels }
            }
            if v.dataType == .char || v.dataType == .string {
                return (0..<count).map(String.init)
            }
            let values = try v.read(Double.self)
            return values.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int($0)) : "\($0)" }
        }
        return (0..<count).map(String.init)
    }
}
