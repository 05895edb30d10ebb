import Foundation

/// Where the data of a classic-format file (CDF-1, CDF-2, CDF-5) end, from its header.
///
/// netcdf-c reads past the end of a truncated classic file as zeros instead of failing, and
/// does not expose the data offsets, so the header's variable records (`begin`, `vsize`)
/// are read here, following the format specification
/// (https://docs.unidata.ucar.edu/netcdf-c/current/file_format_specifications.html).
struct ClassicLayout {
    /// Bytes the file must hold for every declared value to be present.
    let requiredSize: Double

    private struct Reader {
        let bytes: Data
        var position = 0
        let wide: Bool  // CDF-5: 64-bit counts and sizes

        mutating func int32() throws -> Int {
            guard position + 4 <= bytes.count else { throw ClassicLayout.Short() }
            defer { position += 4 }
            return bytes[position..<(position + 4)].reduce(0) { $0 << 8 | Int($1) }
        }
        mutating func int64() throws -> Int {
            guard position + 8 <= bytes.count else { throw ClassicLayout.Short() }
            defer { position += 8 }
            return bytes[position..<(position + 8)].reduce(0) { $0 << 8 | Int($1) }
        }
        mutating func count() throws -> Int { try wide ? int64() : int32() }
        mutating func skip(_ n: Int) throws {
            guard n >= 0, position + n <= bytes.count else { throw ClassicLayout.Short() }
            position += n
        }
        mutating func name() throws { try skip(padded(try count())) }
        func padded(_ n: Int) -> Int { (n + 3) / 4 * 4 }

        /// An attribute list: tag, count, then (name, type, count, padded values) each.
        mutating func attributes() throws {
            _ = try int32()
            for _ in 0..<(try count()) {
                try name()
                let size = ClassicLayout.typeSize(try int32())
                try skip(padded(try count() * size))
            }
        }
    }

    private struct Short: Error {}

    static func typeSize(_ code: Int) -> Int {
        switch code {
        case 1, 2, 7: return 1        // byte, char, ubyte
        case 3, 8: return 2           // short, ushort
        case 4, 5, 9: return 4        // int, float, uint
        default: return 8             // double, int64, uint64
        }
    }

    /// Parses the header at the start of `bytes`; nil when it is not a classic header or
    /// is itself cut short (netcdf-c rejects such files when opening them).
    init?(header bytes: Data) {
        guard bytes.count >= 8, bytes.prefix(3) == Data("CDF".utf8), [1, 2, 5].contains(bytes[3]) else { return nil }
        let version = bytes[3]
        var r = Reader(bytes: bytes, position: 4, wide: version == 5)
        do {
            var records = try r.count()
            if records == (version == 5 ? -1 : 0xFFFF_FFFF) { records = 0 }  // streaming: unknown
            // Dimensions: lengths (0 marks the record dimension).
            _ = try r.int32()
            var lengths: [Int] = []
            for _ in 0..<(try r.count()) { try r.name(); lengths.append(try r.count()) }
            try r.attributes()
            _ = try r.int32()
            var recordSize = 0.0, end = 0.0
            var recordVariables: [(begin: Double, size: Double)] = []
            for _ in 0..<(try r.count()) {
                try r.name()
                let dimensions = try (0..<(try r.count())).map { _ in try r.count() }
                try r.attributes()
                let size = Double(ClassicLayout.typeSize(try r.int32()))
                _ = try r.count()  // vsize (may be clipped for large variables)
                let begin = Double(version == 1 ? try r.int32() : try r.int64())
                guard dimensions.allSatisfy({ $0 >= 0 && $0 < lengths.count }) else { return nil }
                let shape = dimensions.map { lengths[$0] }
                if let first = shape.first, first == 0 {  // record variable
                    let perRecord = shape.dropFirst().reduce(size) { $0 * Double($1) }
                    recordVariables.append((begin, perRecord))
                    recordSize += Double(r.padded(Int(perRecord)))
                } else {
                    end = max(end, begin + shape.reduce(size) { $0 * Double($1) })
                }
            }
            // A single record variable is not padded between records.
            if recordVariables.count == 1 { recordSize = recordVariables[0].size }
            for v in recordVariables where records > 0 {
                end = max(end, v.begin + Double(records - 1) * recordSize + v.size)
            }
            requiredSize = end
        } catch {
            return nil
        }
    }
}
