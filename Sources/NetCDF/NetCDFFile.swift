import CNetCDF
import Foundation

/// A dimension of a netCDF file.
public struct Dimension: Equatable, Hashable, Sendable {
    /// Dimension id within the file.
    public let id: Int32
    public let name: String
    /// Current length (for an unlimited dimension: the number of records written so far).
    public let length: Int
    /// True for a record (unlimited) dimension.
    public let isUnlimited: Bool
}

/// An open netCDF file (classic, 64-bit offset, CDF-5, NetCDF-4 or NetCDF-4 classic model).
///
/// The file closes when `close()` is called, or at the latest when the last reference to it
/// (including any `Variable` obtained from it) goes away. Prefer `close()` or
/// `NetCDFFile.withFile` so that closing is deterministic and its errors are seen.
///
/// Define mode and data mode are switched automatically: defining dimensions, variables,
/// attributes, chunking or compression enters define mode; reading or writing data leaves it.
///
/// netcdf-c is not thread-safe: use one file from one thread at a time, and do not use
/// several files concurrently from different threads.
public final class NetCDFFile {
    /// On-disk format.
    public enum Format: Sendable, Equatable, CustomStringConvertible {
        case classic, offset64Bit, data64Bit, netCDF4, netCDF4Classic
        public var description: String {
            switch self {
            case .classic: return "classic"
            case .offset64Bit: return "64-bit offset"
            case .data64Bit: return "64-bit data (CDF-5)"
            case .netCDF4: return "netCDF-4"
            case .netCDF4Classic: return "netCDF-4 classic model"
            }
        }
        var createMode: Int32 {
            switch self {
            case .classic: return 0
            case .offset64Bit: return NC_64BIT_OFFSET
            case .data64Bit: return NC_64BIT_DATA
            case .netCDF4: return NC_NETCDF4
            case .netCDF4Classic: return NC_NETCDF4 | NC_CLASSIC_MODEL
            }
        }
    }

    /// How an existing file is opened.
    public enum Mode: Sendable { case read, write }

    /// The path given when the file was opened or created.
    public let path: String
    /// True when the file was created or opened with `.write`.
    public let isWritable: Bool
    /// The on-disk format.
    public let format: Format
    /// False after `close()`.
    public private(set) var isOpen = true

    let ncid: Int32
    private var inDefineMode: Bool

    private init(path: String, ncid: Int32, writable: Bool, defineMode: Bool) throws {
        self.path = path
        self.ncid = ncid
        self.isWritable = writable
        self.inDefineMode = defineMode
        var code: Int32 = 0
        let status = nc_inq_format(ncid, &code)
        if status != NC_NOERR { nc_close(ncid) }
        try check(status, path: path, "cannot determine file format")
        switch code {
        case NC_FORMAT_CLASSIC: format = .classic
        case NC_FORMAT_64BIT_OFFSET: format = .offset64Bit
        case NC_FORMAT_64BIT_DATA: format = .data64Bit
        case NC_FORMAT_NETCDF4_CLASSIC: format = .netCDF4Classic
        default: format = .netCDF4
        }
    }

    deinit {
        if isOpen { nc_close(ncid) }
    }

    /// Opens an existing file.
    /// - Throws: `NetCDFError` naming the path and netcdf-c's message (no such file, not a
    ///   netCDF file, truncated HDF5 …).
    public static func open(_ path: String, mode: Mode = .read) throws -> NetCDFFile {
        _ = hdf5ExitHandlerDisabled
        // netcdf-c would block on a FIFO and misreport a directory.
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            let kind = (info.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file (a FIFO, device or socket)"
            throw NetCDFError(path: path, message: "cannot open: \(kind); give a NetCDF file")
        }
        var id: Int32 = -1
        let status = nc_open(path, mode == .write ? NC_WRITE : NC_NOWRITE, &id)
        if status != NC_NOERR { try checkClassicFileSize(path) }
        try check(status, path: path, "cannot open")
        let file = try NetCDFFile(path: path, ncid: id, writable: mode == .write, defineMode: false)
        try file.checkClassicFileSize()
        return file
    }

    /// Refuses a classic-format file shorter than the data its header declares: netcdf-c
    /// would read the missing tail as zeros (a truncated copy or download), and a header
    /// declaring huge dimensions would make readers allocate for data that is not there.
    /// NetCDF-4 (HDF5) files detect truncation themselves.
    func checkClassicFileSize() throws {
        guard format != .netCDF4, format != .netCDF4Classic else { return }
        do {
            try NetCDFFile.checkClassicFileSize(path)
        } catch {
            try? close()
            throw error
        }
    }

    /// The check itself, also run when netcdf-c cannot open a file, so that a header whose
    /// dimensions outgrow the file is called truncated rather than of unknown format.
    static func checkClassicFileSize(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: 0)
        // Headers are small; a larger one (many attributes) is read whole.
        var header = (try? handle.read(upToCount: 1 << 16)) ?? Data()
        var layout = ClassicLayout(header: header)
        if layout == nil, header.count == 1 << 16 {
            try? handle.seek(toOffset: 0)
            header = (try? handle.readToEnd()) ?? header
            layout = ClassicLayout(header: header)
        }
        guard let required = layout?.requiredSize, Double(size) < required else { return }
        throw NetCDFError(path: path, message: String(
            format: "the file is truncated: its header declares %.0f bytes but the file holds %llu; copy or download it again",
            required, size))
    }

    /// Creates a new file in define mode.
    /// - Parameters:
    ///   - format: on-disk format; NetCDF-4 is needed for compression, chunking and 64-bit ints.
    ///   - overwrite: replace an existing file (otherwise an existing file is an error).
    public static func create(_ path: String, format: Format = .netCDF4, overwrite: Bool = false) throws -> NetCDFFile {
        _ = hdf5ExitHandlerDisabled
        var id: Int32 = -1
        let mode = format.createMode | (overwrite ? NC_CLOBBER : NC_NOCLOBBER)
        try check(nc_create(path, mode, &id), path: path, "cannot create")
        return try NetCDFFile(path: path, ncid: id, writable: true, defineMode: true)
    }

    /// HDF5's exit handler is switched off before netcdf-c first starts HDF5. When a write
    /// fails (a full disk), `nc_close` fails and leaves the HDF5 file half-closed; at exit
    /// HDF5 closes it again and dereferences freed state (SIGSEGV, HDF5 1.10). Files are
    /// closed explicitly here, so the handler has nothing else to do.
    private static let hdf5ExitHandlerDisabled: Void = {
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "H5dont_atexit") else { return }
        _ = unsafeBitCast(symbol, to: (@convention(c) () -> Int32).self)()
    }()

    /// Opens `path`, runs `body`, and closes the file whatever happens.
    public static func withFile<R>(_ path: String, mode: Mode = .read, _ body: (NetCDFFile) throws -> R) throws -> R {
        let file = try open(path, mode: mode)
        do {
            let result = try body(file)
            try file.close()
            return result
        } catch {
            try? file.close()
            throw error
        }
    }

    /// Flushes and closes the file. Calling it twice is harmless.
    public func close() throws {
        guard isOpen else { return }
        isOpen = false
        try check(nc_close(ncid), path: path, "cannot close")
    }

    /// Writes buffered data to disk.
    public func sync() throws {
        try ensureOpen()
        try enterDataMode()
        try check(nc_sync(ncid), path: path, "cannot sync")
    }

    // MARK: define / data mode

    func ensureOpen(_ variable: String? = nil) throws {
        guard isOpen else { throw NetCDFError(path: path, variable: variable, message: "file is closed") }
    }

    func enterDefineMode(_ variable: String? = nil) throws {
        try ensureOpen(variable)
        guard isWritable else { throw NetCDFError(path: path, variable: variable, message: "file is open read-only") }
        guard !inDefineMode else { return }
        try check(nc_redef(ncid), path: path, variable: variable, "cannot enter define mode")
        inDefineMode = true
    }

    func enterDataMode(_ variable: String? = nil) throws {
        try ensureOpen(variable)
        guard inDefineMode else { return }
        try check(nc_enddef(ncid), path: path, variable: variable, "cannot leave define mode")
        inDefineMode = false
    }

    // MARK: dimensions

    /// All dimensions, in id order.
    public func dimensions() throws -> [Dimension] {
        try ensureOpen()
        var count: Int32 = 0
        try check(nc_inq_ndims(ncid, &count), path: path, "cannot count dimensions")
        var ids = [Int32](repeating: 0, count: Int(max(count, 1)))
        try check(nc_inq_dimids(ncid, &count, &ids, 0), path: path, "cannot list dimensions")
        return try ids.prefix(Int(count)).map { try dimension(id: $0) }
    }

    /// The dimension called `name`, or nil.
    public func dimension(_ name: String) throws -> Dimension? {
        try ensureOpen()
        var id: Int32 = 0
        let status = nc_inq_dimid(ncid, name, &id)
        if status == NC_EBADDIM { return nil }
        try check(status, path: path, variable: "dimension \(name)", "cannot look up")
        return try dimension(id: id)
    }

    func dimension(id: Int32) throws -> Dimension {
        var name = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
        var length = 0
        try check(nc_inq_dim(ncid, id, &name, &length), path: path, "cannot inquire dimension \(id)")
        var nUnlimited: Int32 = 0
        try check(nc_inq_unlimdims(ncid, &nUnlimited, nil), path: path, "cannot list unlimited dimensions")
        var unlimited = [Int32](repeating: -1, count: Int(max(nUnlimited, 1)))
        try check(nc_inq_unlimdims(ncid, &nUnlimited, &unlimited), path: path, "cannot list unlimited dimensions")
        return Dimension(id: id, name: cString(name), length: length,
                         isUnlimited: unlimited.prefix(Int(nUnlimited)).contains(id))
    }

    /// Defines a dimension. `length == nil` makes it unlimited (a record dimension).
    @discardableResult
    public func addDimension(_ name: String, length: Int?) throws -> Dimension {
        try enterDefineMode("dimension \(name)")
        if let n = length, n <= 0 {
            throw NetCDFError(path: path, variable: "dimension \(name)", message: "length must be positive, got \(n)")
        }
        var id: Int32 = 0
        try check(nc_def_dim(ncid, name, length ?? Int(NC_UNLIMITED), &id), path: path,
                  variable: "dimension \(name)", "cannot define dimension")
        return try dimension(id: id)
    }

    // MARK: variables

    /// All variables, in id order.
    public func variables() throws -> [Variable] {
        try ensureOpen()
        var count: Int32 = 0
        try check(nc_inq_nvars(ncid, &count), path: path, "cannot count variables")
        return try (0..<count).map { try variable(id: $0) }
    }

    /// The variable called `name`, or nil.
    public func variable(_ name: String) throws -> Variable? {
        try ensureOpen(name)
        var id: Int32 = 0
        let status = nc_inq_varid(ncid, name, &id)
        if status == NC_ENOTVAR { return nil }
        try check(status, path: path, variable: name, "cannot look up variable")
        return try variable(id: id)
    }

    func variable(id: Int32) throws -> Variable {
        var name = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
        var type: nc_type = 0
        var rank: Int32 = 0
        try check(nc_inq_var(ncid, id, &name, &type, &rank, nil, nil), path: path, "cannot inquire variable \(id)")
        var dimIDs = [Int32](repeating: 0, count: Int(max(rank, 1)))
        try check(nc_inq_vardimid(ncid, id, &dimIDs), path: path, variable: cString(name), "cannot inquire dimensions")
        let dims = try dimIDs.prefix(Int(rank)).map { try dimension(id: $0) }
        return Variable(file: self, id: id, name: cString(name), dataType: DataType(code: type), dimensions: dims)
    }

    /// Defines a variable of `type` over `dimensions` (empty for a scalar).
    @discardableResult
    public func addVariable(_ name: String, type: DataType, dimensions: [Dimension]) throws -> Variable {
        try enterDefineMode(name)
        var id: Int32 = 0
        let dimIDs = dimensions.map(\.id)
        try check(nc_def_var(ncid, name, type.code, Int32(dimIDs.count), dimIDs.isEmpty ? nil : dimIDs, &id),
                  path: path, variable: name, "cannot define variable")
        return try variable(id: id)
    }

    // MARK: global attributes

    var globalAttributeIO: AttributeIO { AttributeIO(ncid: ncid, varid: NC_GLOBAL, path: path, owner: nil) }

    /// Names of the global attributes, in file order.
    public func attributeNames() throws -> [String] {
        try ensureOpen()
        return try globalAttributeIO.names()
    }

    /// A global attribute, or nil when absent.
    public func attribute(_ name: String) throws -> AttributeValue? {
        try ensureOpen()
        return try globalAttributeIO.get(name)
    }

    /// All global attributes in file order.
    public func attributes() throws -> [(name: String, value: AttributeValue)] {
        try attributeNames().compactMap { n in try attribute(n).map { (n, $0) } }
    }

    /// Sets (creates or replaces) a global attribute.
    public func setAttribute(_ name: String, _ value: AttributeValue) throws {
        try enterDefineMode()
        try globalAttributeIO.put(name, value)
    }

    /// Deletes a global attribute.
    public func removeAttribute(_ name: String) throws {
        try enterDefineMode()
        try globalAttributeIO.delete(name)
    }
}

func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
