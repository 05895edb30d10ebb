import CNetCDF

/// A variable of an open netCDF file. It keeps its file alive.
///
/// Data are row-major with the last dimension varying fastest (C order), as in netCDF.
public struct Variable {
    /// The file this variable belongs to.
    public let file: NetCDFFile
    /// Variable id within the file.
    public let id: Int32
    public let name: String
    /// The variable's type in the file.
    public let dataType: DataType
    /// Dimensions, outermost first (lengths as when the variable was looked up).
    public let dimensions: [Dimension]

    /// Number of dimensions (0 for a scalar).
    public var rank: Int { dimensions.count }
    /// Dimension names, outermost first.
    public var dimensionNames: [String] { dimensions.map(\.name) }

    /// Current lengths of the dimensions (unlimited dimensions grow as records are written).
    public func shape() throws -> [Int] {
        try file.ensureOpen(name)
        return try dimensions.map { d in
            var n = 0
            try check(nc_inq_dimlen(file.ncid, d.id, &n), path: file.path, variable: name, "cannot inquire dimension \(d.name)")
            return n
        }
    }

    /// Number of values currently held (product of `shape()`, 1 for a scalar).
    public func count() throws -> Int { try shape().reduce(1, *) }

    // MARK: attributes

    var attributeIO: AttributeIO { AttributeIO(ncid: file.ncid, varid: id, path: file.path, owner: name) }

    /// Attribute names in file order.
    public func attributeNames() throws -> [String] {
        try file.ensureOpen(name)
        return try attributeIO.names()
    }

    /// An attribute of this variable, or nil when absent.
    public func attribute(_ attributeName: String) throws -> AttributeValue? {
        try file.ensureOpen(name)
        return try attributeIO.get(attributeName)
    }

    /// All attributes in file order.
    public func attributes() throws -> [(name: String, value: AttributeValue)] {
        try attributeNames().compactMap { n in try attribute(n).map { (n, $0) } }
    }

    /// Creates or replaces an attribute. `_FillValue` must be set before any data are written
    /// and with the variable's own type.
    public func setAttribute(_ attributeName: String, _ value: AttributeValue) throws {
        try file.enterDefineMode(name)
        try attributeIO.put(attributeName, value)
    }

    /// Deletes an attribute.
    public func removeAttribute(_ attributeName: String) throws {
        try file.enterDefineMode(name)
        try attributeIO.delete(attributeName)
    }

    // MARK: storage (NetCDF-4 only)

    /// Sets chunk lengths (one per dimension), or contiguous storage when `chunks` is nil.
    /// Must be called before data are written. NetCDF-4 formats only.
    public func setChunking(_ chunks: [Int]?) throws {
        try file.enterDefineMode(name)
        if let c = chunks {
            guard c.count == rank, c.allSatisfy({ $0 > 0 }) else {
                throw NetCDFError(path: file.path, variable: name,
                                  message: "chunk lengths \(c) do not match the variable's \(rank) dimensions")
            }
            try check(nc_def_var_chunking(file.ncid, id, NC_CHUNKED, c), path: file.path, variable: name, "cannot set chunking")
        } else {
            try check(nc_def_var_chunking(file.ncid, id, NC_CONTIGUOUS, nil), path: file.path, variable: name, "cannot set contiguous storage")
        }
    }

    /// Chunk lengths, or nil for contiguous (and classic-format) storage.
    public func chunking() throws -> [Int]? {
        try file.ensureOpen(name)
        guard file.format == .netCDF4 || file.format == .netCDF4Classic else { return nil }
        var storage: Int32 = 0
        var chunks = [Int](repeating: 0, count: max(rank, 1))
        try check(nc_inq_var_chunking(file.ncid, id, &storage, &chunks), path: file.path, variable: name, "cannot inquire chunking")
        return storage == NC_CHUNKED ? Array(chunks.prefix(rank)) : nil
    }

    /// Enables zlib deflate at `level` (1–9; 0 turns it off) and optionally the byte shuffle
    /// filter. Must be called before data are written. NetCDF-4 formats only.
    public func setCompression(deflateLevel level: Int, shuffle: Bool) throws {
        guard (0...9).contains(level) else {
            throw NetCDFError(path: file.path, variable: name, message: "deflate level must be 0…9, got \(level)")
        }
        try file.enterDefineMode(name)
        try check(nc_def_var_deflate(file.ncid, id, shuffle ? 1 : 0, level > 0 ? 1 : 0, Int32(level)),
                  path: file.path, variable: name, "cannot set compression")
    }

    /// Deflate level (nil when not compressed) and whether shuffle is on.
    public func compression() throws -> (deflateLevel: Int?, shuffle: Bool) {
        try file.ensureOpen(name)
        guard file.format == .netCDF4 || file.format == .netCDF4Classic else { return (nil, false) }
        var shuffle: Int32 = 0, deflate: Int32 = 0, level: Int32 = 0
        try check(nc_inq_var_deflate(file.ncid, id, &shuffle, &deflate, &level), path: file.path, variable: name, "cannot inquire compression")
        return (deflate != 0 ? Int(level) : nil, shuffle != 0)
    }

    // MARK: data

    /// Validates a hyperslab and returns the number of values it holds.
    func hyperslabCount(start: [Int], count: [Int]) throws -> Int {
        guard start.count == rank, count.count == rank else {
            throw NetCDFError(path: file.path, variable: name,
                              message: "hyperslab start \(start) / count \(count) do not match the variable's \(rank) dimensions")
        }
        guard start.allSatisfy({ $0 >= 0 }), count.allSatisfy({ $0 >= 0 }) else {
            throw NetCDFError(path: file.path, variable: name, message: "hyperslab start \(start) / count \(count) has a negative entry")
        }
        return count.reduce(1, *)
    }

    /// Reads the whole variable, converting to `T`.
    /// - Returns: `count()` values, row-major.
    public func read<T: NetCDFScalar>(_ type: T.Type = T.self) throws -> [T] {
        let shape = try shape()
        return try read(type, start: [Int](repeating: 0, count: rank), count: shape)
    }

    /// Reads the hyperslab `start ..< start + count` (one entry per dimension), converting to `T`.
    /// - Returns: `count.reduce(1, *)` values, row-major.
    public func read<T: NetCDFScalar>(_ type: T.Type = T.self, start: [Int], count: [Int]) throws -> [T] {
        let n = try hyperslabCount(start: start, count: count)
        return try [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            try read(start: start, count: count, into: buffer)
            initialized = n
        }
    }

    /// Reads a hyperslab into caller-owned memory (no allocation; for streaming). `buffer`
    /// must hold exactly `count.reduce(1, *)` values.
    public func read<T: NetCDFScalar>(start: [Int], count: [Int], into buffer: UnsafeMutableBufferPointer<T>) throws {
        let n = try hyperslabCount(start: start, count: count)
        guard buffer.count == n else {
            throw NetCDFError(path: file.path, variable: name, message: "buffer holds \(buffer.count) values, hyperslab \(count) needs \(n)")
        }
        try file.enterDataMode(name)
        guard dataType.isNumeric else {
            throw NetCDFError(path: file.path, variable: name, message: "cannot read \(dataType) data as \(T.self)")
        }
        if n == 0 { return }
        guard let out = buffer.baseAddress else { return }
        // netcdf-c needs valid pointers even for scalars.
        let s = rank == 0 ? [0] : start, c = rank == 0 ? [1] : count
        guard let status = TypedIO.getVara(file.ncid, id, s, c, out) else {
            throw NetCDFError(path: file.path, variable: name, message: "unsupported Swift type \(T.self)")
        }
        try check(status, path: file.path, variable: name, "cannot read data (start \(start), count \(count))")
    }

    /// Writes the whole variable (its current shape; for a variable with an unlimited dimension
    /// use `write(_:start:count:)`). `values.count` must equal `count()`.
    public func write<T: NetCDFScalar>(_ values: [T]) throws {
        try write(values, start: [Int](repeating: 0, count: rank), count: try shape())
    }

    /// Writes the hyperslab `start ..< start + count`. `values.count` must equal
    /// `count.reduce(1, *)`; writing past the end of an unlimited dimension extends it.
    public func write<T: NetCDFScalar>(_ values: [T], start: [Int], count: [Int]) throws {
        try values.withUnsafeBufferPointer { (b: UnsafeBufferPointer<T>) in try self.write(b, start: start, count: count) }
    }

    /// Writes a hyperslab from caller-owned memory (for streaming).
    public func write<T: NetCDFScalar>(_ values: UnsafeBufferPointer<T>, start: [Int], count: [Int]) throws {
        let n = try hyperslabCount(start: start, count: count)
        guard values.count == n else {
            throw NetCDFError(path: file.path, variable: name, message: "\(values.count) values given, hyperslab \(count) needs \(n)")
        }
        try file.enterDataMode(name)
        guard dataType.isNumeric else {
            throw NetCDFError(path: file.path, variable: name, message: "cannot write \(T.self) data to a \(dataType) variable")
        }
        if n == 0 { return }
        guard let p = values.baseAddress else { return }
        let s = rank == 0 ? [0] : start, c = rank == 0 ? [1] : count
        guard let status = TypedIO.putVara(file.ncid, id, s, c, p) else {
            throw NetCDFError(path: file.path, variable: name, message: "unsupported Swift type \(T.self)")
        }
        try check(status, path: file.path, variable: name, "cannot write data (start \(start), count \(count))")
    }

    /// Reads a `char` variable as strings along its last dimension (trailing NULs and
    /// spaces removed): a `char name(n, len)` variable gives `n` strings.
    public func readText() throws -> [String] {
        guard dataType == .char else {
            throw NetCDFError(path: file.path, variable: name, message: "variable is \(dataType), not char")
        }
        let shape = try shape()
        let total = shape.reduce(1, *)
        let width = shape.last ?? 1
        guard total > 0 else { return [] }
        try file.enterDataMode(name)
        var chars = [CChar](repeating: 0, count: total)
        let s = rank == 0 ? [0] : [Int](repeating: 0, count: rank), c = rank == 0 ? [1] : shape
        try check(nc_get_vara_text(file.ncid, id, s, c, &chars), path: file.path, variable: name, "cannot read text")
        return stride(from: 0, to: total, by: max(width, 1)).map { i in
            let row = chars[i..<min(i + width, total)].prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return String(decoding: row, as: UTF8.self).trimmingTrailingSpaces()
        }
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
