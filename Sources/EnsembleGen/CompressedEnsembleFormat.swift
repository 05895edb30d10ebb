import Climate
import Compression
import Foundation
import NetCDF

/// The layout of a compressed ensemble file (`ensemblegen compress`), a NetCDF-4 file:
/// - the original's dimensions, coordinate and auxiliary variables and global attributes,
///   verbatim; its data variable's attributes on the scalar `ensemblegen_field`;
/// - `ensemblegen_codec` (scalar) whose attributes describe the codec, the error bound,
///   the data variable's name, dimensions and type;
/// - the basis: mean field per month of year, EOF patterns (int16 with a scale per mode)
///   and how each mode's coefficient codes are coded;
/// - per member (`egc_member`): frequency tables, code cap, predictor weights, cell
///   classes; per member and time step the sizes of the field's three parts (coefficient
///   codes, residual codes, exactly stored values), which follow each other in one byte
///   stream. Only the stream has an unlimited dimension: each adds kilobytes of HDF5
///   index. See Docs/compression.md.
enum CompressedEnsembleFormat {
    static let format = "ensemblegen-compressed/2"

    static let codec = "ensemblegen_codec"
    static let field = "ensemblegen_field"
    static let member = "egc_member"
    static let neighbour = "egc_neighbour"
    static let context = "egc_context"
    static let month = "egc_month"
    static let mode = "egc_mode"
    static let coefficientClass = "egc_coefficient_class"
    static let coefficientSymbol = "egc_coefficient_symbol"
    static let residualSymbol = "egc_residual_symbol"
    static let part = "egc_part"
    static let time = "egc_time"
    static let byte = "egc_byte"
    static let cell = "egc_cell"
    static let cellClass = "egc_cell_class"
    static let latitudeSource = "egc_latitude_source"
    static let longitudeSource = "egc_longitude_source"

    static let mean = "egc_mean"
    static let basis = "egc_basis"
    static let basisScale = "egc_basis_scale"
    static let modeShift = "egc_mode_shift"
    static let modeClass = "egc_mode_class"
    static let residualCap = "egc_residual_cap"
    static let predictor = "egc_predictor"
    static let coefficientFrequencies = "egc_coefficient_frequencies"
    static let residualFrequencies = "egc_residual_frequencies"
    /// Per member and time step: bytes of coefficient codes, bytes of residual codes,
    /// exactly stored values (float32, 4 bytes each), in that order in `stream`.
    static let fieldParts = "egc_field_parts"
    static let stream = "egc_stream"

    /// Every variable the codec adds (not copied to a decompressed file).
    static let codecVariables: Set<String> = [
        codec, field, cellClass, latitudeSource, longitudeSource, mean, basis, basisScale, modeShift, modeClass, residualCap, predictor,
        coefficientFrequencies, residualFrequencies, fieldParts, stream,
    ]
    /// Every dimension the codec adds.
    static let codecDimensions: Set<String> = [
        cell, member, neighbour, context, month, mode, coefficientClass, coefficientSymbol, residualSymbol, part, time, byte,
    ]

    /// The guard between the requested bound and the one the quantiser uses: float32
    /// rounding of the output and of unit conversions (≤ 2 ulp at 400 K), with room to
    /// spare (the prediction itself is the same on every machine: `FieldBasis`).
    static func margin(maxError: Double) -> Double {
        max(maxError / 64, 4 * Double(Float(400).ulp))
    }

    /// Mean codes [12 × cells] as stored: each minus the one before it in storage order
    /// (neighbouring cells differ by little, so deflate shrinks the differences).
    static func differences(_ codes: [Int32]) -> [Int32] {
        codes.indices.map { $0 == 0 ? codes[0] : codes[$0] &- codes[$0 - 1] }
    }

    /// Inverse of `differences`.
    static func sums(_ differences: [Int32]) -> [Int32] {
        var running: Int32 = 0
        return differences.map { running = running &+ $0; return running }
    }

    /// Attribute of `codec` holding the `SideInformationDigest`.
    static let sideInformationAttribute = "side_information_sha256"

    /// The smallest bound accepted: finer bounds are below float32's resolution at 300 K.
    static let smallestMaxError = 16 * Double(Float(400).ulp)
}

/// What `ensemblegen_codec`'s attributes say about a compressed file.
struct CompressedEnsembleHeader {
    var variable: String
    /// Position of the data variable among the original's variables (kept on decompression).
    var variableIndex: Int
    var dimensions: [String]
    var dataType: DataType
    var timeAxis: Int, latitudeAxis: Int, longitudeAxis: Int
    var memberAxis: Int?
    var unit: TemperatureUnit
    var maxError: Double
    var quantiserBound: Double
    /// EOFs of the basis and the coefficient step (K).
    var modes: Int
    var coefficientStep: Float
    /// The means are stored as multiples of this step (K).
    var meanStep: Float
    var members: Int
    var times: Int
    /// `SideInformationDigest` of the file, written when every member is (read back only).
    var sideInformationSHA256 = ""

    func write(to v: Variable) throws {
        let text: [(String, String)] = [
            ("format", CompressedEnsembleFormat.format), ("variable", variable), ("dimensions", dimensions.joined(separator: " ")),
            ("data_type", dataType.description), ("units_written", unit.rawValue),
            ("method", "every field predicted by the mean of its month of year plus the file's leading EOFs with quantised, entropy-coded coefficients; the residual predicted from its reconstructed neighbours, quantised to a multiple of 2 × quantiser_bound and entropy-coded (rANS, 28 contexts); values whose code exceeds the cap are stored exactly. Docs/compression.md"),
        ]
        for (name, value) in text { try v.setAttribute(name, .text(value)) }
        try v.setAttribute("max_error", .double([maxError]))
        try v.setAttribute("quantiser_bound", .double([quantiserBound]))
        try v.setAttribute("coefficient_step", .float([coefficientStep]))
        try v.setAttribute("mean_step", .float([meanStep]))
        try v.setAttribute("axes", .int32([Int32(timeAxis), Int32(latitudeAxis), Int32(longitudeAxis), Int32(memberAxis ?? -1)]))
        try v.setAttribute("modes", .int32([Int32(modes)]))
        try v.setAttribute("members", .int32([Int32(members)]))
        try v.setAttribute("variable_index", .int32([Int32(variableIndex)]))
        try v.setAttribute("time_steps", .int32([Int32(times)]))
    }

    /// Reads and checks the header of `file`.
    init(file: NetCDFFile) throws {
        let path = file.path
        guard let v = try file.variable(CompressedEnsembleFormat.codec) else {
            throw EnsembleGenError("\(path): not a file written by `ensemblegen compress` (no \(CompressedEnsembleFormat.codec) variable)")
        }
        func text(_ name: String) throws -> String {
            guard let t = try v.attribute(name)?.text else { throw EnsembleGenError("\(path): \(CompressedEnsembleFormat.codec): attribute \(name) is missing") }
            return t
        }
        func numbers(_ name: String, count: Int) throws -> [Double] {
            guard let d = try v.attribute(name)?.doubles, d.count == count, d.allSatisfy(\.isFinite) else {
                throw EnsembleGenError("\(path): \(CompressedEnsembleFormat.codec): attribute \(name) must be \(count) finite number(s)")
            }
            return d
        }
        let format = try text("format")
        guard format == CompressedEnsembleFormat.format else {
            throw EnsembleGenError("\(path): compressed format '\(format)' is not \(CompressedEnsembleFormat.format); decompress it with the EnsembleGen version that wrote it")
        }
        variable = try text("variable")
        dimensions = try text("dimensions").split(separator: " ").map(String.init)
        guard let type = [DataType.float, .double].first(where: { $0.description == (try? text("data_type")) }) else {
            throw EnsembleGenError("\(path): \(CompressedEnsembleFormat.codec): data_type must be float or double")
        }
        dataType = type
        guard let unit = TemperatureUnit(rawValue: try text("units_written")) else {
            throw EnsembleGenError("\(path): \(CompressedEnsembleFormat.codec): units_written is not a temperature unit")
        }
        self.unit = unit
        maxError = try numbers("max_error", count: 1)[0]
        quantiserBound = try numbers("quantiser_bound", count: 1)[0]
        coefficientStep = Float(try numbers("coefficient_step", count: 1)[0])
        meanStep = Float(try numbers("mean_step", count: 1)[0])
        let axes = try numbers("axes", count: 4).map { Int($0) }
        (timeAxis, latitudeAxis, longitudeAxis) = (axes[0], axes[1], axes[2])
        memberAxis = axes[3] >= 0 ? axes[3] : nil
        modes = Int(try numbers("modes", count: 1)[0])
        members = Int(try numbers("members", count: 1)[0])
        variableIndex = Int(try numbers("variable_index", count: 1)[0])
        times = Int(try numbers("time_steps", count: 1)[0])
        sideInformationSHA256 = try text(CompressedEnsembleFormat.sideInformationAttribute)
        let rank = dimensions.count
        guard variableIndex >= 0, maxError > 0, quantiserBound > 0, quantiserBound <= maxError, coefficientStep > 0, meanStep > 0, modes >= 0, members > 0, times > 0,
              Set([timeAxis, latitudeAxis, longitudeAxis] + (memberAxis.map { [$0] } ?? [])).count == (memberAxis == nil ? 3 : 4),
              ([timeAxis, latitudeAxis, longitudeAxis] + (memberAxis.map { [$0] } ?? [])).allSatisfy({ (0..<rank).contains($0) }) else {
            throw EnsembleGenError("\(path): \(CompressedEnsembleFormat.codec): inconsistent header (bounds, axes or counts)")
        }
    }

    init(variable: String, variableIndex: Int, dimensions: [String], dataType: DataType, layout: StoredFieldLayout, maxError: Double,
         quantiserBound: Double, modes: Int, coefficientStep: Float, meanStep: Float, members: Int, times: Int) {
        self.variable = variable; self.variableIndex = variableIndex; self.dimensions = dimensions; self.dataType = dataType
        (timeAxis, latitudeAxis, longitudeAxis, memberAxis) = (layout.timeAxis, layout.latitudeAxis, layout.longitudeAxis, layout.memberAxis)
        unit = layout.unit
        self.maxError = maxError; self.quantiserBound = quantiserBound; self.modes = modes
        self.coefficientStep = coefficientStep; self.meanStep = meanStep; self.members = members; self.times = times
    }
}

extension DataType {
    var isFloatingPoint: Bool { self == .float || self == .double }
}

/// The SHA-256 of everything the streams are decoded with besides themselves (the bound,
/// the steps, the basis, every member's weights, classes and tables), in file order, as
/// little-endian bytes: damage there would decode into wrong values that the streams'
/// own checks cannot notice.
struct SideInformationDigest {
    private var hasher = SHA256()

    init(header: CompressedEnsembleHeader, basis: FieldBasis) {
        add([header.maxError.bitPattern, header.quantiserBound.bitPattern])
        add([header.coefficientStep.bitPattern, header.meanStep.bitPattern])
        add(basis.means.map(\.bitPattern))
        add(basis.integers)
        add(basis.scales.map(\.bitPattern))
    }

    mutating func add(member coefficient: CoefficientCodeBook, _ residual: ResidualCodeBook) {
        add(coefficient.shifts)
        add(coefficient.classes)
        for table in coefficient.tables { add(table.frequencies) }
        add([Int64(residual.quantiser.cap)])
        add(residual.quantiser.coefficients.map(\.bitPattern))
        add(residual.classes)
        for table in residual.tables { add(table.frequencies) }
    }

    private mutating func add<T: FixedWidthInteger>(_ values: [T]) {
        values.map(\.littleEndian).withUnsafeBytes { hasher.update(Data($0)) }
    }

    /// 64 hex digits.
    func finalize() -> String {
        var copy = hasher
        return copy.finalize()
    }
}
