import Climate
import Compression
import Foundation
import NetCDF
import OutputFiles
import Tensor

/// `ensemblegen decompress`: rebuilds the CF file `compress` stored (or some members and
/// years of it), every value within the recorded error bound of the original.
public enum DecompressPipeline {
    public struct Options: Sendable {
        public var input: String
        public var output: String
        /// Member indices from 0 ("0-9,12"); nil: all.
        public var members: String?
        /// Years to keep (inclusive); nil: from the first / to the last.
        public var startYear: Int?
        public var endYear: Int?
        public var storage: OutputStorage

        public init(input: String, output: String, members: String? = nil, startYear: Int? = nil,
                    endYear: Int? = nil, storage: OutputStorage = OutputStorage()) {
            self.input = input; self.output = output; self.members = members
            self.startYear = startYear; self.endYear = endYear; self.storage = storage
        }
    }

    public struct Result: Sendable {
        public var members: Int
        public var timeSteps: Int
        public var maxError: Double
        public var output: String
        public var text: String {
            String(format: "%d members × %d time steps, every value within %g K of the original\nwrote %@", members, timeSteps, maxError, output)
        }
    }

    /// Time steps per block decoded at once (memory: block × cells values per member).
    static let block = 96

    public static func run(_ o: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        let source = try NetCDFFile.open(o.input)
        defer { try? source.close() }
        let codes = try CompressedEnsembleReader(file: source)
        let header = codes.header
        try OutputFile.checkDestination(o.output, inputs: [o.input])
        let basis = try codes.basis()
        try codes.checkSideInformation(basis: basis)
        let members = try o.members.map { try MemberSelection.parse($0, count: header.members, file: o.input) } ?? Array(0..<header.members)
        let timeName = header.dimensions[header.timeAxis]
        let time = try TimeAxis.read(from: source, dimension: timeName)
        guard time.count == header.times else { throw EnsembleGenError("\(o.input): time axis has \(time.count) steps, the codes \(header.times)") }
        let years = (0..<time.count).map { time.date(at: $0).year }
        let times = (0..<time.count).filter { (o.startYear ?? Int.min) <= years[$0] && years[$0] <= (o.endYear ?? Int.max) }
        guard let first = times.first, let last = times.last else {
            throw EnsembleGenError("\(o.input): no time steps in \(o.startYear.map(String.init) ?? "…")–\(o.endYear.map(String.init) ?? "…") (the file covers \(years.first!)–\(years.last!))")
        }
        let selectedTimes = first..<(last + 1)
        let months = time.monthsOfYear
        let rows = codes.latitudeSource.count, columns = codes.longitudeSource.count

        try NetCDFOutput.write(o.output, inputs: [o.input]) { f in
            let memberName = header.memberAxis.map { header.dimensions[$0] }
            var selecting = [timeName: Array(selectedTimes)]
            if let memberName { selecting[memberName] = members }
            for d in try source.dimensions() where !CompressedEnsembleFormat.codecDimensions.contains(d.name) {
                try f.addDimension(d.name, length: d.isUnlimited ? nil : (selecting[d.name]?.count ?? d.length))
            }
            try f.copyGlobalAttributes(from: source)
            // The original's variables in their order, the data variable at its place.
            var data: NetCDF.Variable?
            func defineData() throws {
                let dims = try header.dimensions.map { name -> NetCDF.Dimension in
                    guard let d = try f.dimension(name) else { throw EnsembleGenError("\(o.input): dimension \(name) is missing") }
                    return d
                }
                let v = try f.addVariable(header.variable, type: header.dataType, dimensions: dims)
                try f.copyAttributes(of: codes.field, to: v)
                var chunks = dims.map { _ in 1 }
                chunks[header.latitudeAxis] = rows
                chunks[header.longitudeAxis] = columns
                try v.setChunking(chunks)
                if o.storage.deflateLevel > 0 { try v.setCompression(deflateLevel: o.storage.deflateLevel, shuffle: true) }
                data = v
            }
            for v in try source.variables() where !CompressedEnsembleFormat.codecVariables.contains(v.name) {
                let defined = try f.variables().count
                if data == nil && defined == header.variableIndex { try defineData() }
                try f.copyVariable(v, selecting: selecting)
            }
            if data == nil { try defineData() }
            guard let data else { throw EnsembleGenError("\(o.input): data variable not defined") }
            var shape = data.dimensions.map(\.length)
            shape[header.timeAxis] = selectedTimes.count
            if let m = header.memberAxis { shape[m] = members.count }
            let layout = StoredFieldLayout(path: o.output, variableName: header.variable, dimensionNames: header.dimensions, shape: shape,
                                           timeAxis: header.timeAxis, latitudeAxis: header.latitudeAxis, longitudeAxis: header.longitudeAxis,
                                           memberAxis: header.memberAxis, unit: header.unit, isPacked: false,
                                           latitudeSource: codes.latitudeSource, longitudeSource: codes.longitudeSource)
            let blocks = (selectedTimes.count + block - 1) / block
            for (i, m) in members.enumerated() {
                let books = try codes.codeBooks(member: m)
                for b in 0..<blocks {
                    let start = selectedTimes.lowerBound + b * block
                    let range = start..<min(selectedTimes.upperBound, start + block)
                    let fields = try decode(codes: codes, books: books, member: m, times: range, basis: basis,
                                            months: Array(months[range]), rows: rows, columns: columns)
                    try fields.withUnsafeBufferPointer {
                        try layout.write($0, member: i, timeStart: range.lowerBound - selectedTimes.lowerBound, timeCount: range.count, to: data)
                    }
                }
                progress?(i + 1, members.count)
            }
        }
        return Result(members: members.count, timeSteps: selectedTimes.count, maxError: header.maxError, output: o.output)
    }

    /// Fields [times, cells] (K) of member `m`: the basis's prediction plus the decoded
    /// residual, exactly stored values where the codes escape.
    static func decode(codes: CompressedEnsembleReader, books: (coefficient: CoefficientCodeBook, residual: ResidualCodeBook), member m: Int,
                       times: Range<Int>, basis: FieldBasis, months: [Int], rows: Int, columns: Int) throws -> [Float] {
        let cells = rows * columns, k = basis.modes, n = times.count
        let fieldCodes = try codes.fieldCodes(member: m, times: times)
        var failure: Error?
        let lock = NSLock()
        func record(_ error: Error) { lock.lock(); failure = failure ?? error; lock.unlock() }
        var coefficientCodes = [Int32](repeating: 0, count: n * k)
        coefficientCodes.withUnsafeMutableBufferPointer { out in
            ComputeThreads.concurrently(jobs: n) { worker, workers in
                for t in stride(from: worker, to: n, by: workers) {
                    do {
                        try fieldCodes[t].coefficients.withUnsafeBufferPointer {
                            try books.coefficient.decode($0, into: UnsafeMutableBufferPointer(rebasing: out[(t * k)..<((t + 1) * k)]))
                        }
                    } catch { record(error) }
                }
            }
        }
        if let failure { throw EnsembleGenError("\(codes.file.path): member \(m): \(failure)") }
        var fields = MemberCompressor.predict(basis: basis, codes: coefficientCodes, months: months)
        fields.withUnsafeMutableBufferPointer { out in
            ComputeThreads.concurrently(jobs: n) { worker, workers in
                var rebuilt = [Double](repeating: 0, count: cells), magnitudes = [Int32](repeating: 0, count: cells)
                for t in stride(from: worker, to: n, by: workers) {
                    do {
                        let field = fieldCodes[t]
                        let escapes = try rebuilt.withUnsafeMutableBufferPointer { r in
                            try magnitudes.withUnsafeMutableBufferPointer { mags in
                                try field.residuals.withUnsafeBufferPointer {
                                    try books.residual.decode($0, rows: rows, columns: columns, reconstruction: r, magnitudes: mags)
                                }
                            }
                        }
                        guard escapes.count == field.exact.count else {
                            throw CompressionError.corrupt("member \(m), time step \(times.lowerBound + t): \(escapes.count) escapes but \(field.exact.count) stored values")
                        }
                        let base = t * cells
                        for c in 0..<cells { out[base + c] = Float(Double(out[base + c]) + rebuilt[c]) }
                        for (value, c) in zip(field.exact, escapes) { out[base + c] = value }
                    } catch { record(error) }
                }
            }
        }
        if let failure { throw EnsembleGenError("\(codes.file.path): \(failure)") }
        return fields
    }
}

/// Reads the codes of a compressed ensemble file.
final class CompressedEnsembleReader {
    typealias F = CompressedEnsembleFormat
    let file: NetCDFFile
    let header: CompressedEnsembleHeader
    let field: NetCDF.Variable
    let latitudeSource: [Int], longitudeSource: [Int]
    /// Where each field's bytes start in the stream, [member][time + 1], and the sizes of
    /// its parts, [member][time][coefficient bytes, residual bytes, exact values].
    private let offsets: [[Int]], parts: [[[Int]]]

    init(file: NetCDFFile) throws {
        self.file = file
        header = try CompressedEnsembleHeader(file: file)
        let path = file.path
        func variable(_ name: String) throws -> NetCDF.Variable { try CompressedEnsembleReader.required(name, in: file) }
        field = try variable(F.field)
        latitudeSource = try variable(F.latitudeSource).read(Int32.self).map(Int.init)
        longitudeSource = try variable(F.longitudeSource).read(Int32.self).map(Int.init)
        guard Set(latitudeSource) == Set(0..<latitudeSource.count), Set(longitudeSource) == Set(0..<longitudeSource.count) else {
            throw EnsembleGenError("\(path): \(F.latitudeSource)/\(F.longitudeSource) are not permutations")
        }
        let (m, t) = (header.members, header.times)
        let counts = try variable(F.fieldParts)
        guard try counts.shape() == [m, t, 3] else { throw EnsembleGenError("\(path): \(F.fieldParts) is not \(m) × \(t) × 3") }
        let sizes = try counts.read(UInt32.self).map(Int.init)
        var running = 0, offsets: [[Int]] = [], parts: [[[Int]]] = []
        for member in 0..<m {
            var row = [running], memberParts: [[Int]] = []
            for k in 0..<t {
                let p = Array(sizes[(3 * (member * t + k))..<(3 * (member * t + k) + 3)])
                running += p[0] + p[1] + 4 * p[2]
                row.append(running)
                memberParts.append(p)
            }
            offsets.append(row)
            parts.append(memberParts)
        }
        let length = try variable(F.stream).shape().first ?? 0
        guard running == length else { throw EnsembleGenError("\(path): \(F.fieldParts) adds up to \(running) bytes, but \(F.stream) holds \(length)") }
        self.offsets = offsets
        self.parts = parts
    }

    /// Variable `name` of the format, or an error naming the file.
    static func required(_ name: String, in file: NetCDFFile) throws -> NetCDF.Variable {
        guard let v = try file.variable(name) else { throw EnsembleGenError("\(file.path): variable \(name) of the compressed format is missing") }
        return v
    }

    private func required(_ name: String) throws -> NetCDF.Variable { try CompressedEnsembleReader.required(name, in: file) }

    /// The basis the fields are predicted with, checked.
    func basis() throws -> FieldBasis {
        let cells = latitudeSource.count * longitudeSource.count, k = header.modes
        do {
            guard try required(F.mean).shape() == [12, cells], try k == 0 || required(F.basis).shape() == [k, cells] else {
                throw CompressionError.corrupt("\(F.basis) or \(F.mean) does not hold \(k) modes and 12 means of \(cells) cells")
            }
            let means = F.sums(try required(F.mean).read(Int32.self)).map { Float($0) * header.meanStep }
            let integers = k > 0 ? try required(F.basis).read(Int16.self) : []
            let scales = k > 0 ? try required(F.basisScale).read(Float.self, start: [0], count: [k]) : []
            return try FieldBasis(cells: cells, means: means, integers: integers, scales: scales, step: header.coefficientStep)
        } catch let error as CompressionError {
            throw EnsembleGenError("\(file.path): \(error)")
        } catch let error as NetCDFError {
            throw EnsembleGenError("\(file.path): the basis is unreadable (\(error.message))")
        }
    }

    /// Throws unless the basis and every member's code books are those `compress` wrote.
    func checkSideInformation(basis: FieldBasis) throws {
        var digest = SideInformationDigest(header: header, basis: basis)
        for m in 0..<header.members {
            let books = try codeBooks(member: m)
            digest.add(member: books.coefficient, books.residual)
        }
        guard digest.finalize() == header.sideInformationSHA256 else {
            throw EnsembleGenError("\(file.path): compressed data are damaged: the basis, predictor weights or code tables differ from what compress wrote (SHA-256 mismatch); use an intact copy")
        }
    }

    /// The code books of member `m`, checked.
    func codeBooks(member m: Int) throws -> (coefficient: CoefficientCodeBook, residual: ResidualCodeBook) {
        do {
            let residualCap = Int(try required(F.residualCap).read(Int32.self, start: [m], count: [1])[0])
            guard (0...ResidualQuantiser.maximumCap).contains(residualCap) else {
                throw CompressionError.corrupt("cap \(residualCap) out of range")
            }
            let k = header.modes
            let shifts = k > 0 ? try required(F.modeShift).read(UInt8.self, start: [0], count: [k]) : []
            let modeClasses = k > 0 ? try required(F.modeClass).read(UInt8.self, start: [0], count: [k]) : []
            let classCount = CoefficientCodeBook.classCount, symbols = CoefficientCodeBook.alphabet
            let coefficientTables = try required(F.coefficientFrequencies).read(Int32.self, start: [m, 0, 0], count: [1, classCount, symbols])
            let coefficients = try required(F.predictor).read(Double.self, start: [m, 0], count: [1, 3])
            let quantiser = try ResidualQuantiser(bound: header.quantiserBound, coefficients: coefficients, cap: residualCap)
            let contexts = ResidualQuantiser.contextCount, alphabet = quantiser.alphabet
            let residualTables = try required(F.residualFrequencies).read(Int32.self, start: [m, 0, 0], count: [1, contexts, alphabet])
            func table(_ values: ArraySlice<Int32>) throws -> FrequencyTable {
                guard values.allSatisfy({ $0 >= 0 }) else { throw CompressionError.corrupt("negative frequency") }
                return try FrequencyTable(frequencies: values.map { UInt32($0) })
            }
            let coefficient = try CoefficientCodeBook(shifts: shifts, classes: modeClasses, tables: (0..<classCount).map {
                try table(coefficientTables[($0 * symbols)..<(($0 + 1) * symbols)])
            })
            let cells = latitudeSource.count * longitudeSource.count
            let classes = try required(F.cellClass).read(UInt8.self, start: [m, 0], count: [1, cells])
            let residual = try ResidualCodeBook(quantiser: quantiser, classes: classes, tables: (0..<contexts).map {
                try table(residualTables[($0 * alphabet)..<(($0 + 1) * alphabet)])
            })
            return (coefficient, residual)
        } catch let error as CompressionError {
            throw EnsembleGenError("\(file.path): member \(m): \(error)")
        } catch let error as NetCDFError {
            throw EnsembleGenError("\(file.path): member \(m): code books unreadable (\(error.message))")
        }
    }

    /// One field's codes: coefficient and residual streams, exactly stored values.
    struct FieldCodes {
        var coefficients: ArraySlice<UInt8>
        var residuals: ArraySlice<UInt8>
        var exact: [Float]
    }

    /// The codes of member `m` for `times`, read in one piece.
    func fieldCodes(member m: Int, times: Range<Int>) throws -> [FieldCodes] {
        let row = offsets[m]
        let start = row[times.lowerBound], end = row[times.upperBound]
        let bytes = end > start ? try required(F.stream).read(UInt8.self, start: [start], count: [end - start]) : []
        return times.map { t in
            let p = parts[m][t], base = row[t] - start
            let residualStart = base + p[0], exactStart = residualStart + p[1]
            let exact = (0..<p[2]).map { k -> Float in
                let b = bytes[(exactStart + 4 * k)..<(exactStart + 4 * k + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                return Float(bitPattern: b)
            }
            return FieldCodes(coefficients: bytes[base..<residualStart], residuals: bytes[residualStart..<exactStart], exact: exact)
        }
    }
}

/// `ensemblegen info` of a compressed ensemble file.
public enum CompressedEnsembleInfo {
    /// A summary of `path` when `compress` wrote it, nil for any other file.
    public static func describe(path: String) throws -> String? {
        guard path.hasSuffix(".nc") || path.hasSuffix(".nc4"), FileManager.default.fileExists(atPath: path),
              let file = try? NetCDFFile.open(path) else { return nil }
        defer { try? file.close() }
        guard try file.variable(CompressedEnsembleFormat.codec) != nil else { return nil }
        let codes = try CompressedEnsembleReader(file: file)
        let h = codes.header
        let cells = codes.latitudeSource.count * codes.longitudeSource.count
        let values = Double(h.members * h.times * cells)
        let bytes = Double(((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int64) ?? 0)
        return [
            "\(path) (written by ensemblegen compress, \(CompressedEnsembleFormat.format))",
            "  variable   \(h.variable) (\(h.dimensions.joined(separator: ", ")); \(h.dataType), \(h.unit.rawValue))",
            "  holds      \(h.members) members × \(h.times) time steps × \(codes.latitudeSource.count) × \(codes.longitudeSource.count) cells",
            String(format: "  max error  %g K at every value (quantiser bound %.6g K)", h.maxError, h.quantiserBound),
            String(format: "  size       %.1f MB: %.2f bits per value, %.1f× smaller than float32", bytes / 1e6, bytes * 8 / values, values * 4 / bytes),
            "  basis      \(h.modes) EOFs of the file, coefficient step \(h.coefficientStep) K",
            "  decompress ensemblegen decompress \(path) --output <file>.nc",
        ].joined(separator: "\n")
    }
}
