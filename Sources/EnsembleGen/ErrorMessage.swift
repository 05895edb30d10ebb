/// A problem with how the tool was asked to work (settings, environment, option values that
/// only the data can rule out), as opposed to `CFError` (the content of a file).
public struct EnsembleGenError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The one-line text printed after `error: ` for any error: `<file>: <variable>: <problem>`
/// for file errors; newlines and tabs are replaced by spaces so the message stays on one line.
public func oneLineErrorMessage(_ error: Error) -> String {
    let text = "\(error)"
    return String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\t" ? " " : $0 })
}
