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

/// Uniform quantisation of latent vectors to integer codes, and their entropy coding with
/// one frequency table per member.
public struct LatentCodeBook: Sendable {
    /// Quantisation step in latent units.
    public let step: Float
    /// Largest |code|; symbols are code + cap.
    public let cap: Int
    public let table: FrequencyTable

    /// Largest cap (alphabet ≤ 32767 symbols).
    public static let maximumCap = 16383

    public init(step: Float, cap: Int, table: FrequencyTable) throws {
        guard step > 0, step.isFinite else { throw CompressionError.corrupt("latent step \(step) is not positive") }
        guard (0...LatentCodeBook.maximumCap).contains(cap), table.frequencies.count == 2 * cap + 1 else {
            throw CompressionError.corrupt("latent table of \(table.frequencies.count) symbols does not match cap \(cap)")
        }
        self.step = step
        self.cap = cap
        self.table = table
    }

    /// Codes of `latents`, rounded to multiples of `step` and clipped to ±`maximumCap`
    /// (clipping only makes the prediction worse; the residual keeps the bound).
    public static func codes(_ latents: [Float], step: Float) -> [Int32] {
        let limit = Float(maximumCap)
        return latents.map { z in
            let q = (z / step).rounded()
            return q.isFinite ? Int32(min(limit, max(-limit, q))) : 0
        }
    }

    /// The latent values the codes stand for (exact in float arithmetic on every machine).
    public static func values(_ codes: [Int32], step: Float) -> [Float] {
        codes.map { Float($0) * step }
    }

    /// A code book fitted to `codes`.
    public init(step: Float, fittedTo codes: [Int32]) throws {
        let cap = Int(codes.lazy.map { abs($0) }.max() ?? 0)
        var counts = [Int](repeating: 0, count: 2 * cap + 1)
        for c in codes { counts[Int(c) + cap] += 1 }
        try self.init(step: step, cap: cap, table: FrequencyTable(counts: counts))
    }

    public func encode(_ codes: ArraySlice<Int32>) -> [UInt8] {
        var encoder = RANSEncoder()
        for c in codes.reversed() { encoder.encode(Int(c) + cap, table) }
        return encoder.finish()
    }

    public func decode(_ stream: UnsafeBufferPointer<UInt8>, count: Int) throws -> [Int32] {
        var decoder = try RANSDecoder(stream)
        let codes = try (0..<count).map { _ in Int32(try decoder.decode(table) - cap) }
        guard decoder.isComplete else { throw CompressionError.corrupt("a latent stream holds more than \(count) codes") }
        return codes
    }
}
