import Climate
import Compression
import Foundation
import NetCDF
import OutputFiles

/// Writes a compressed ensemble file (`CompressedEnsembleFormat`) member by member.
final class CompressedEnsembleWriter {
    typealias F = CompressedEnsembleFormat
    private let file: NetCDFFile
    private let header: CompressedEnsembleHeader
    private var coefficientBytesWritten = 0, residualBytesWritten = 0, exceptionsWritten = 0

    /// Copies the original's dimensions, variables (all but the data variable) and global
    /// attributes, defines the codec's variables and writes the basis.
    init(file: NetCDFFile, source: NetCDFFile, dataVariable: Variable, layout: StoredFieldLayout, header: CompressedEnsembleHeader,
         plan: CompressionPlan) throws {
        self.file = file
        self.header = header
        for d in try source.dimensions() {
            try file.addDimension(d.name, length: d.isUnlimited ? nil : d.length)
        }
        try file.copyGlobalAttributes(from: source)
        for v in try source.variables() where v.name != dataVariable.name {
            guard !F.codecVariables.contains(v.name) else {
                throw EnsembleGenError("\(source.path): variable \(v.name) has a name the compressed format uses; rename it first (ncrename)")
            }
            try file.copyVariable(v)
        }
        let field = try file.addVariable(F.field, type: header.dataType, dimensions: [])
        if !layout.isPacked && dataVariable.dataType == header.dataType {
            try file.copyAttributes(of: dataVariable, to: field)
        } else {
            // Packed integers are written back unpacked as float: their packing attributes go.
            let packing: Set<String> = ["scale_factor", "add_offset", "_FillValue", "missing_value", "valid_min", "valid_max", "valid_range"]
            for (name, value) in try dataVariable.attributes() where !packing.contains(name) { try field.setAttribute(name, value) }
        }
        let codec = try file.addVariable(F.codec, type: .int32, dimensions: [])
        try header.write(to: codec)

        func dimension(_ name: String, _ length: Int?) throws -> NetCDF.Dimension {
            guard try source.dimension(name) == nil else {
                throw EnsembleGenError("\(source.path): dimension \(name) has a name the compressed format uses; rename it first (ncrename)")
            }
            return try file.addDimension(name, length: length)
        }
        let member = try dimension(F.member, header.members)
        let cell = try dimension(F.cell, layout.latitudeSource.count * layout.longitudeSource.count)
        let neighbour = try dimension(F.neighbour, 3), context = try dimension(F.context, ResidualQuantiser.contextCount)
        let month = try dimension(F.month, 12), mode = try dimension(F.mode, nil)
        let coefficientClass = try dimension(F.coefficientClass, CoefficientCodeBook.classCount)
        let coefficientSymbol = try dimension(F.coefficientSymbol, CoefficientCodeBook.alphabet)
        let residualSymbol = try dimension(F.residualSymbol, nil)
        let coefficientByte = try dimension(F.coefficientByte, nil), residualByte = try dimension(F.residualByte, nil)
        let exception = try dimension(F.exception, nil)
        guard let time = try file.dimension(header.dimensions[header.timeAxis]),
              let lat = try file.dimension(header.dimensions[header.latitudeAxis]),
              let lon = try file.dimension(header.dimensions[header.longitudeAxis]) else {
            throw EnsembleGenError("\(source.path): the data variable's dimensions are missing")
        }
        func variable(_ name: String, _ type: DataType, _ dims: [NetCDF.Dimension], chunks: [Int]? = nil, deflate: Bool = true) throws {
            let v = try file.addVariable(name, type: type, dimensions: dims)
            if let chunks { try v.setChunking(chunks) }
            if deflate { try v.setCompression(deflateLevel: 6, shuffle: true) }
        }
        try variable(F.latitudeSource, .int32, [lat])
        try variable(F.longitudeSource, .int32, [lon])
        try variable(F.mean, .int32, [month, cell])
        try variable(F.basis, .int16, [mode, cell], chunks: [1, layout.latitudeSource.count * layout.longitudeSource.count])
        try variable(F.basisScale, .float, [mode], chunks: [1024])
        try variable(F.modeShift, .uint8, [mode], chunks: [1024])
        try variable(F.modeClass, .uint8, [mode], chunks: [1024])
        try variable(F.residualCap, .int32, [member])
        try variable(F.predictor, .double, [member, neighbour], deflate: false)
        try variable(F.cellClass, .uint8, [member, cell])
        try variable(F.coefficientFrequencies, .int32, [member, coefficientClass, coefficientSymbol])
        try variable(F.residualFrequencies, .int32, [member, context, residualSymbol], chunks: [1, ResidualQuantiser.contextCount, 4096])
        for name in [F.coefficientBytes, F.residualBytes, F.exceptionCount] {
            try variable(name, .uint32, [member, time], chunks: [1, header.times])
        }
        // Entropy-coded bytes: deflate cannot shrink them.
        try variable(F.coefficientStream, .uint8, [coefficientByte], chunks: [1 << 14], deflate: false)
        try variable(F.residualStream, .uint8, [residualByte], chunks: [1 << 14], deflate: false)
        try variable(F.exceptions, .float, [exception], chunks: [1 << 12])
        try file.variable(F.latitudeSource)!.write(layout.latitudeSource.map(Int32.init))
        try file.variable(F.longitudeSource)!.write(layout.longitudeSource.map(Int32.init))
        let basis = plan.basis
        try file.variable(F.mean)!.write(F.differences(plan.meanCodes))
        if basis.modes > 0 {
            try file.variable(F.basis)!.write(basis.integers, start: [0, 0], count: [basis.modes, basis.cells])
            try file.variable(F.basisScale)!.write(basis.scales, start: [0], count: [basis.modes])
            try file.variable(F.modeShift)!.write(plan.shifts, start: [0], count: [basis.modes])
            try file.variable(F.modeClass)!.write(plan.classes, start: [0], count: [basis.modes])
        }
    }

    func write(member m: Int, _ coded: CompressedMember) throws {
        func v(_ name: String) throws -> Variable { try file.variable(name)! }
        let times = header.times
        try v(F.residualCap).write([Int32(coded.residualBook.quantiser.cap)], start: [m], count: [1])
        try v(F.predictor).write(coded.residualBook.quantiser.coefficients, start: [m, 0], count: [1, 3])
        let classes = coded.residualBook.classes
        try v(F.cellClass).write(classes, start: [m, 0], count: [1, classes.count])
        let coefficientTables = coded.coefficientBook.tables.flatMap { $0.frequencies.map { Int32($0) } }
        try v(F.coefficientFrequencies).write(coefficientTables, start: [m, 0, 0],
                                              count: [1, CoefficientCodeBook.classCount, CoefficientCodeBook.alphabet])
        let residualTables = coded.residualBook.tables.flatMap { $0.frequencies.map { Int32($0) } }
        try v(F.residualFrequencies).write(residualTables, start: [m, 0, 0],
                                           count: [1, ResidualQuantiser.contextCount, coded.residualBook.quantiser.alphabet])
        try v(F.coefficientBytes).write(coded.coefficientStreams.map { UInt32($0.count) }, start: [m, 0], count: [1, times])
        try v(F.residualBytes).write(coded.residualStreams.map { UInt32($0.count) }, start: [m, 0], count: [1, times])
        try v(F.exceptionCount).write(coded.exceptions.map { UInt32($0.count) }, start: [m, 0], count: [1, times])
        let coefficients = coded.coefficientStreams.flatMap { $0 }, residual = coded.residualStreams.flatMap { $0 }
        let exceptions = coded.exceptions.flatMap { $0 }
        if !coefficients.isEmpty {
            try v(F.coefficientStream).write(coefficients, start: [coefficientBytesWritten], count: [coefficients.count])
            coefficientBytesWritten += coefficients.count
        }
        try v(F.residualStream).write(residual, start: [residualBytesWritten], count: [residual.count])
        residualBytesWritten += residual.count
        if !exceptions.isEmpty {
            try v(F.exceptions).write(exceptions, start: [exceptionsWritten], count: [exceptions.count])
            exceptionsWritten += exceptions.count
        }
    }
}

/// A NetCDF-4 file written through `OutputFile`: `<path>.partial` until `body` returns,
/// then renamed into place; removed if `body` throws.
enum NetCDFOutput {
    static func write<R>(_ path: String, inputs: [String], _ body: (NetCDFFile) throws -> R) throws -> R {
        let output = try OutputFile(path: path, inputs: inputs)
        // netcdf-c opens the partial itself (clobbering the empty file created for us).
        output.releaseDescriptor()
        var file: NetCDFFile?
        do {
            let f = try NetCDFFile.create(output.partialPath, overwrite: true)
            file = f
            let result = try body(f)
            try f.close()
            file = nil
            try output.commit()
            return result
        } catch {
            try? file?.close()
            let reported = output.failure(error)
            output.abandon()
            throw reported
        }
    }
}
