import Climate
import Compression
import Foundation
import NetCDF

/// The layout of a compressed ensemble file (`ensemblegen compress`), a NetCDF-4 file:
/// - the original's dimensions, coordinate and auxiliary variables and global attributes,
///   verbatim; its data variable's attributes on the scalar `ensemblegen_field`;
/// - `ensemblegen_codec` (scalar) whose attributes describe the codec, the error bound,
///   the data variable's name, dimensions and type, and the VAE's SHA-256;
/// - per member (`egc_member`) and time step: the byte counts of the latent and residual
///   streams and the number of exactly stored values; the streams themselves as unsigned
///   bytes; the frequency tables, caps and predictor weights. See Docs/compression.md.
enum CompressedEnsembleFormat {
    static let format = "ensemblegen-compressed/1"

    static let codec = "ensemblegen_codec"
    static let field = "ensemblegen_field"
    static let member = "egc_member"
    static let neighbour = "egc_neighbour"
    static let context = "egc_context"
    static let latentSymbol = "egc_latent_symbol"
    static let residualSymbol = "egc_residual_symbol"
    static let latentByte = "egc_latent_byte"
    static let residualByte = "egc_residual_byte"
    static let exception = "egc_exception"
    static let cell = "egc_cell"
    static let cellClass = "egc_cell_class"
    static let latitudeSource = "egc_latitude_source"
    static let longitudeSource = "egc_longitude_source"

    static let latentCap = "egc_latent_cap"
    static let residualCap = "egc_residual_cap"
    static let predictor = "egc_predictor"
    static let latentFrequencies = "egc_latent_frequencies"
    static let residualFrequencies = "egc_residual_frequencies"
    static let latentBytes = "egc_latent_bytes"
    static let residualBytes = "egc_residual_bytes"
    static let exceptionCount = "egc_exception_count"
    static let latentStream = "egc_latent_stream"
    static let residualStream = "egc_residual_stream"
    static let exceptions = "egc_exceptions"

    /// Every variable the codec adds (not copied to a decompressed file).
    static let codecVariables: Set<String> = [
        codec, field, cellClass, latitudeSource, longitudeSource, latentCap, residualCap, predictor, latentFrequencies,
        residualFrequencies, latentBytes, residualBytes, exceptionCount, latentStream, residualStream, exceptions,
    ]
    /// Every dimension the codec adds.
    static let codecDimensions: Set<String> = [cell, member, neighbour, context, latentSymbol, residualSymbol, latentByte, residualByte, exception]

    /// The guard between the requested bound and the one the quantiser uses: float32
    /// rounding of the output and of unit conversions (≤ 2 ulp at 400 K), and differences
    /// in the VAE's decoding between machines and builds (measured none between thread
    /// counts, nor between the native and portable builds), with room to spare.
    static func margin(maxError: Double) -> Double {
        max(maxError / 64, 4 * Double(Float(400).ulp))
    }

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
    var latentStep: Float
    var latentDimension: Int
    var members: Int
    var times: Int
    var modelSHA256: String
    var model: String

    func write(to v: Variable) throws {
        let text: [(String, String)] = [
            ("format", CompressedEnsembleFormat.format), ("variable", variable), ("dimensions", dimensions.joined(separator: " ")),
            ("data_type", dataType.description), ("units_written", unit.rawValue),
            ("model", model), ("model_sha256", modelSHA256),
            ("method", "VAE prediction of every field from quantised latents, then the residual predicted from its reconstructed neighbours, quantised to a multiple of 2 × quantiser_bound and entropy-coded (rANS, 7 contexts); values whose code exceeds the cap are stored exactly. Docs/compression.md"),
        ]
        for (name, value) in text { try v.setAttribute(name, .text(value)) }
        try v.setAttribute("max_error", .double([maxError]))
        try v.setAttribute("quantiser_bound", .double([quantiserBound]))
        try v.setAttribute("latent_step", .float([latentStep]))
        try v.setAttribute("axes", .int32([Int32(timeAxis), Int32(latitudeAxis), Int32(longitudeAxis), Int32(memberAxis ?? -1)]))
        try v.setAttribute("latent_dimension", .int32([Int32(latentDimension)]))
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
        model = try text("model")
        modelSHA256 = try text("model_sha256")
        maxError = try numbers("max_error", count: 1)[0]
        quantiserBound = try numbers("quantiser_bound", count: 1)[0]
        latentStep = Float(try numbers("latent_step", count: 1)[0])
        let axes = try numbers("axes", count: 4).map { Int($0) }
        (timeAxis, latitudeAxis, longitudeAxis) = (axes[0], axes[1], axes[2])
        memberAxis = axes[3] >= 0 ? axes[3] : nil
        latentDimension = Int(try numbers("latent_dimension", count: 1)[0])
        members = Int(try numbers("members", count: 1)[0])
        variableIndex = Int(try numbers("variable_index", count: 1)[0])
        times = Int(try numbers("time_steps", count: 1)[0])
        let rank = dimensions.count
        guard variableIndex >= 0, maxError > 0, quantiserBound > 0, quantiserBound <= maxError, latentStep > 0, latentDimension > 0, members > 0, times > 0,
              Set([timeAxis, latitudeAxis, longitudeAxis] + (memberAxis.map { [$0] } ?? [])).count == (memberAxis == nil ? 3 : 4),
              ([timeAxis, latitudeAxis, longitudeAxis] + (memberAxis.map { [$0] } ?? [])).allSatisfy({ (0..<rank).contains($0) }) else {
            throw EnsembleGenError("\(path): \(CompressedEnsembleFormat.codec): inconsistent header (bounds, axes or counts)")
        }
    }

    init(variable: String, variableIndex: Int, dimensions: [String], dataType: DataType, layout: StoredFieldLayout, maxError: Double,
         quantiserBound: Double, latentStep: Float, latentDimension: Int, members: Int, times: Int, modelSHA256: String, model: String) {
        self.variable = variable; self.variableIndex = variableIndex; self.dimensions = dimensions; self.dataType = dataType
        (timeAxis, latitudeAxis, longitudeAxis, memberAxis) = (layout.timeAxis, layout.latitudeAxis, layout.longitudeAxis, layout.memberAxis)
        unit = layout.unit
        self.maxError = maxError; self.quantiserBound = quantiserBound; self.latentStep = latentStep
        self.latentDimension = latentDimension; self.members = members; self.times = times
        self.modelSHA256 = modelSHA256; self.model = model
    }
}

extension DataType {
    var isFloatingPoint: Bool { self == .float || self == .double }
}
