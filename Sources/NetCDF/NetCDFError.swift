import CNetCDF

/// An error from the NetCDF layer. It names the file, the variable (when one is involved) and
/// the problem; for failures inside netcdf-c the problem is netcdf-c's own message
/// (`nc_strerror`) and `status` holds its status code.
///
/// `description` has the form `<path>: <variable>: <problem>` (or `<path>: <problem>`), the
/// shape the command line prints after `error: `.
public struct NetCDFError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Path of the file the operation was applied to.
    public let path: String
    /// Variable (or `"global attribute x"`, `"dimension d"`) involved, if any.
    public let variable: String?
    /// Human-readable problem.
    public let message: String
    /// netcdf-c status code (`NC_E…`), or nil for errors detected in Swift.
    public let status: Int32?

    public init(path: String, variable: String? = nil, message: String, status: Int32? = nil) {
        self.path = path
        self.variable = variable
        self.message = message
        self.status = status
    }

    public var description: String {
        if let v = variable { return "\(path): \(v): \(message)" }
        return "\(path): \(message)"
    }
}

/// netcdf-c's message for a status code.
func netCDFMessage(_ status: Int32) -> String {
    guard let cString = nc_strerror(status) else { return "netCDF status \(status)" }
    return String(cString: cString)
}

/// Throws a `NetCDFError` unless `status` is `NC_NOERR`. `what` describes the operation and is
/// prefixed to netcdf-c's message (e.g. "cannot read data: NetCDF: Start+count exceeds dimension bound").
@inline(__always)
func check(_ status: Int32, path: String, variable: String? = nil, _ what: @autoclosure () -> String) throws {
    guard status != NC_NOERR else { return }
    throw NetCDFError(path: path, variable: variable, message: "\(what()): \(netCDFMessage(status))", status: status)
}
