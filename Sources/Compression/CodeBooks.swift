import Foundation

/// The frequency tables of one member's residual codes (one per context), the quantiser
/// that made them and the class of each grid cell: encodes and decodes one field's stream.
public struct ResidualCodeBook: Sendable {
    public let quantiser: ResidualQuantiser
    public let tables: [FrequencyTable]
    /// Class (0..<`ResidualQuantiser.cellClasses`) of each cell of a field.
    public let classes: [UInt8]

    public init(quantiser: ResidualQuantiser, classes: [UInt8], tables: [FrequencyTable]) throws {
        guard tables.count == ResidualQuantiser.contextCount,
              tables.allSatisfy({ $0.frequencies.count == quantiser.alphabet }) else {
            throw CompressionError.corrupt("residual tables do not match the alphabet of \(quantiser.alphabet) symbols")
        }
        guard classes.allSatisfy({ Int($0) < ResidualQuantiser.cellClasses }) else {
            throw CompressionError.corrupt("a cell class is outside 0..<\(ResidualQuantiser.cellClasses)")
        }
        self.quantiser = quantiser
        self.classes = classes
        self.tables = tables
    }

    /// Tables fitted to symbol counts [context][symbol].
    public init(quantiser: ResidualQuantiser, classes: [UInt8], counts: [[Int]]) throws {
        try self.init(quantiser: quantiser, classes: classes, tables: counts.map(FrequencyTable.init(counts:)))
    }

    /// The stream of one field's symbols (visiting order) with their contexts.
    public func encode(symbols: UnsafeBufferPointer<UInt16>, contexts: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var encoder = RANSEncoder()
        for k in stride(from: symbols.count - 1, through: 0, by: -1) {
            encoder.encode(Int(symbols[k]), tables[Int(contexts[k])])
        }
        return encoder.finish()
    }

    /// Decodes one field [rows × columns] into `reconstruction` (r̃; 0 at escapes, whose
    /// indices are returned).
    public func decode(_ stream: UnsafeBufferPointer<UInt8>, rows: Int, columns: Int,
                       reconstruction: UnsafeMutableBufferPointer<Double>,
                       magnitudes: UnsafeMutableBufferPointer<Int32>) throws -> [Int] {
        guard classes.count == rows * columns else { throw CompressionError.corrupt("\(classes.count) cell classes for \(rows * columns) cells") }
        var decoder = try RANSDecoder(stream)
        var escapes: [Int] = []
        try classes.withUnsafeBufferPointer { classes in
            try quantiser.reconstruct(from: &decoder, tables: tables, rows: rows, columns: columns, classes: classes,
                                      into: reconstruction, magnitudes: magnitudes, escapes: &escapes)
        }
        guard decoder.isComplete else { throw CompressionError.corrupt("a field's stream holds more than its values") }
        return escapes
    }
}

/// Entropy coding of the integer coefficient codes of a field, one per mode of a
/// `FieldBasis`. A code v is split into a high part h = v >> shift, coded with the table of
/// the mode's class, and its low `shift` bits, stored raw: the shift keeps h within a few
/// dozen values whatever the mode's spread, and the low bits of a wide distribution are
/// nearly uniform. |h| > `highCap` escapes to the 32-bit code.
public struct CoefficientCodeBook: Sendable {
    public static let classCount = 16
    public static let highCap = 255
    public static let alphabet = 2 * highCap + 2
    public static let escape = 2 * highCap + 1
    /// Per mode: low bits stored raw (0…15), and class (0..<`classCount`).
    public let shifts: [UInt8]
    public let classes: [UInt8]
    /// One table per class, `alphabet` symbols each.
    public let tables: [FrequencyTable]

    public init(shifts: [UInt8], classes: [UInt8], tables: [FrequencyTable]) throws {
        guard shifts.count == classes.count, shifts.allSatisfy({ $0 <= 15 }),
              classes.allSatisfy({ Int($0) < CoefficientCodeBook.classCount }) else {
            throw CompressionError.corrupt("coefficient shifts or classes out of range")
        }
        guard tables.count == CoefficientCodeBook.classCount, tables.allSatisfy({ $0.frequencies.count == CoefficientCodeBook.alphabet }) else {
            throw CompressionError.corrupt("coefficient tables are not \(CoefficientCodeBook.classCount) × \(CoefficientCodeBook.alphabet)")
        }
        self.shifts = shifts
        self.classes = classes
        self.tables = tables
    }

    /// Shift and class of each mode from the standard deviation of its codes: the shift
    /// brings the spread of h to at most 8, the class is h's spread in half-octaves.
    public static func layout(spread: [Double]) -> (shifts: [UInt8], classes: [UInt8]) {
        var shifts: [UInt8] = [], classes: [UInt8] = []
        for s in spread {
            let octaves = s > 0 && s.isFinite ? log2(s) : -30
            let shift = min(15, max(0, Int(octaves.rounded(.up)) - 3))
            let high = octaves - Double(shift)
            shifts.append(UInt8(shift))
            classes.append(UInt8(min(classCount - 1, max(0, Int((2 * high).rounded(.down)) + 10))))
        }
        return (shifts, classes)
    }

    /// Tables fitted to `codes` [fields × modes].
    public init(shifts: [UInt8], classes: [UInt8], fittedTo codes: [Int32]) throws {
        let modes = shifts.count
        var counts = [[Int]](repeating: [Int](repeating: 0, count: CoefficientCodeBook.alphabet), count: CoefficientCodeBook.classCount)
        if modes > 0 {
            for (k, v) in codes.enumerated() {
                let mode = k % modes
                counts[Int(classes[mode])][CoefficientCodeBook.split(v, shift: Int(shifts[mode])).symbol] += 1
            }
        }
        try self.init(shifts: shifts, classes: classes, tables: counts.map(FrequencyTable.init(counts:)))
    }

    @inline(__always)
    static func split(_ v: Int32, shift: Int) -> (symbol: Int, low: Int) {
        let high = Int(v >> Int32(shift)), low = Int(v) - (high << shift)
        return abs(high) <= highCap ? (high + highCap, low) : (escape, 0)
    }

    /// Ideal code length in bits of `codes` [fields × modes] under these tables.
    public func bits(_ codes: [Int32]) -> Double {
        let modes = shifts.count
        guard modes > 0 else { return 0 }
        var counts = [[Int]](repeating: [Int](repeating: 0, count: CoefficientCodeBook.alphabet), count: CoefficientCodeBook.classCount)
        var raw = 0
        for (k, v) in codes.enumerated() {
            let mode = k % modes, symbol = CoefficientCodeBook.split(v, shift: Int(shifts[mode])).symbol
            counts[Int(classes[mode])][symbol] += 1
            raw += symbol == CoefficientCodeBook.escape ? 32 : Int(shifts[mode])
        }
        var bits = Double(raw)
        for (c, row) in counts.enumerated() {
            for (symbol, n) in row.enumerated() where n > 0 { bits += tables[c].bits(symbol: symbol, count: n) }
        }
        return bits
    }

    /// The stream of one field's codes (one per mode); empty when there are no modes.
    public func encode(_ codes: ArraySlice<Int32>) -> [UInt8] {
        guard !shifts.isEmpty else { return [] }
        var encoder = RANSEncoder()
        // Last in, first out: each code's parts in the reverse of the decoding order.
        for (mode, v) in zip(codes.indices, codes).reversed() {
            let m = mode - codes.startIndex, shift = Int(shifts[m])
            let (symbol, low) = CoefficientCodeBook.split(v, shift: shift)
            if symbol == CoefficientCodeBook.escape {
                let bits = Int(UInt32(bitPattern: v))
                encoder.encodeUniform(bits >> 30, bits: 2)
                encoder.encodeUniform((bits >> 15) & 0x7FFF, bits: 15)
                encoder.encodeUniform(bits & 0x7FFF, bits: 15)
            } else if shift > 0 {
                encoder.encodeUniform(low, bits: shift)
            }
            encoder.encode(symbol, tables[Int(classes[m])])
        }
        return encoder.finish()
    }

    /// Decodes one field's codes into `codes` (one per mode).
    public func decode(_ stream: UnsafeBufferPointer<UInt8>, into codes: UnsafeMutableBufferPointer<Int32>) throws {
        guard codes.count == shifts.count else { throw CompressionError.corrupt("\(codes.count) codes asked of \(shifts.count) modes") }
        guard !shifts.isEmpty else {
            guard stream.isEmpty else { throw CompressionError.corrupt("a coefficient stream without modes holds bytes") }
            return
        }
        var decoder = try RANSDecoder(stream)
        for m in 0..<shifts.count {
            let symbol = try decoder.decode(tables[Int(classes[m])])
            if symbol == CoefficientCodeBook.escape {
                let low = try decoder.decodeUniform(bits: 15), middle = try decoder.decodeUniform(bits: 15)
                let top = try decoder.decodeUniform(bits: 2)
                codes[m] = Int32(bitPattern: UInt32(top << 30 | middle << 15 | low))
            } else {
                let shift = Int(shifts[m])
                let low = shift > 0 ? try decoder.decodeUniform(bits: shift) : 0
                codes[m] = Int32(((symbol - CoefficientCodeBook.highCap) << shift) + low)
            }
        }
        guard decoder.isComplete else { throw CompressionError.corrupt("a coefficient stream holds more than \(shifts.count) codes") }
    }
}
