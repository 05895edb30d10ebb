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
    private var digest: SideInformationDigest
    private var bytesWritten = 0

    /// Copies the original's dimensions, variables (all but the data variable) and global
    /// attributes, defines the codec's variables and writes the basis.
    init(file: NetCDFFile, source: NetCDFFile, dataVariable: Variable, layout: StoredFieldLayout, header: CompressedEnsembleHeader,
         plan: CompressionPlan) throws {
        self.file = file
        self.header = header
        digest = SideInformationDigest(header: header, basis: plan.basis)
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
        let cells = layout.latitudeSource.count * layout.longitudeSource.count
        let member = try dimension(F.member, header.members), cell = try dimension(F.cell, cells)
        let neighbour = try dimension(F.neighbour, 3), context = try dimension(F.context, ResidualQuantiser.contextCount)
        let month = try dimension(F.month, 12), part = try dimension(F.part, 3), time = try dimension(F.time, header.times)
        let coefficientClass = try dimension(F.coefficientClass, CoefficientCodeBook.classCount)
        let coefficientSymbol = try dimension(F.coefficientSymbol, CoefficientCodeBook.alphabet)
        let residualSymbol = try dimension(F.residualSymbol, 2 * ResidualQuantiser.maximumCap + 2)
        let byte = try dimension(F.byte, nil)
        guard let lat = try file.dimension(header.dimensions[header.latitudeAxis]),
              let lon = try file.dimension(header.dimensions[header.longitudeAxis]) else {
            throw EnsembleGenError("\(source.path): the data variable's dimensions are missing")
        }
        /// Small variables are contiguous: a chunked one costs kilobytes of HDF5 index.
        func variable(_ name: String, _ type: DataType, _ dims: [NetCDF.Dimension], chunks: [Int]? = nil) throws {
            let v = try file.addVariable(name, type: type, dimensions: dims)
            if let chunks {
                try v.setChunking(chunks)
                if name != F.stream { try v.setCompression(deflateLevel: 6, shuffle: true) }
            }
        }
        try variable(F.latitudeSource, .int32, [lat])
        try variable(F.longitudeSource, .int32, [lon])
        try variable(F.mean, .int32, [month, cell], chunks: [12, cells])
        if plan.basis.modes > 0 {
            let mode = try dimension(F.mode, plan.basis.modes)
            try variable(F.basis, .int16, [mode, cell], chunks: [min(plan.basis.modes, max(1, (1 << 20) / cells)), cells])
            try variable(F.basisScale, .float, [mode])
            try variable(F.modeShift, .uint8, [mode])
            try variable(F.modeClass, .uint8, [mode])
        }
        try variable(F.residualCap, .int32, [member])
        try variable(F.predictor, .double, [member, neighbour])
        try variable(F.cellClass, .uint8, [member, cell], chunks: [1, cells])
        try variable(F.coefficientFrequencies, .int32, [member, coefficientClass, coefficientSymbol],
                     chunks: [1, CoefficientCodeBook.classCount, CoefficientCodeBook.alphabet])
        // Tables as wide as the largest alphabet; deflate stores the unused zeros in a few bytes.
        try variable(F.residualFrequencies, .int32, [member, context, residualSymbol],
                     chunks: [1, ResidualQuantiser.contextCount, 2 * ResidualQuantiser.maximumCap + 2])
        try variable(F.fieldParts, .uint32, [member, time, part], chunks: [1, header.times, 3])
        // Entropy-coded bytes: deflate cannot shrink them. About 64 chunks: the last one,
        // partly filled, costs at most 1.6% of the file.
        let chunk = 1 << min(20, max(10, Int(log2(max(plan.estimatedBytes, 1) / 64).rounded())))
        try variable(F.stream, .uint8, [byte], chunks: [chunk])
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

    /// Writes the digest of the side information: call after the last member.
    func finish() throws {
        try file.variable(F.codec)!.setAttribute(F.sideInformationAttribute, .text(digest.finalize()))
    }

    /// Writes member `m`; members go in order 0, 1, ….
    func write(member m: Int, _ coded: CompressedMember) throws {
        digest.add(member: coded.coefficientBook, coded.residualBook)
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
        var parts: [UInt32] = [], bytes: [UInt8] = []
        for t in 0..<times {
            let exact = coded.exceptions[t].flatMap { value in
                withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
            }
            parts += [UInt32(coded.coefficientStreams[t].count), UInt32(coded.residualStreams[t].count), UInt32(coded.exceptions[t].count)]
            bytes += coded.coefficientStreams[t] + coded.residualStreams[t] + exact
        }
        try v(F.fieldParts).write(parts, start: [m, 0, 0], count: [1, times, 3])
        try v(F.stream).write(bytes, start: [bytesWritten], count: [bytes.count])
        bytesWritten += bytes.count
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
