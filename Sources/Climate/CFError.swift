import NetCDF

/// A problem with the content of a CF file: which file, which variable, what is wrong.
///
/// `description` is `<file>: <variable>: <problem>` (or `<file>: <problem>`), the text the
/// command line prints after `error: `. Low-level I/O failures arrive as `NetCDF.NetCDFError`,
/// whose description has the same shape.
public struct CFError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Path of the offending file.
    public let file: String
    /// Variable concerned (`tas`, `lat`, `time` …), if any.
    public let variable: String?
    /// What is wrong, in one line.
    public let problem: String

    public init(file: String, variable: String? = nil, _ problem: String) {
        self.file = file
        self.variable = variable
        self.problem = problem
    }

    public var description: String {
        if let v = variable { return "\(file): \(v): \(problem)" }
        return "\(file): \(problem)"
    }
}

/// Runs `body`, re-throwing errors that carry no file name (`Grid.GridError`,
/// `TimeAxisError` …) as `CFError`s naming `file` and `variable`.
func attributing<T>(_ file: String, _ variable: String?, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as CFError {
        throw e
    } catch let e as NetCDFError {
        throw e
    } catch {
        throw CFError(file: file, variable: variable, "\(error)")
    }
}
