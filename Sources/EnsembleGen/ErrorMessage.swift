import Foundation
import OutputFiles

/// The one-line text printed after `error: ` for any error: `<file>: <variable>: <problem>`
/// for file errors; newlines and tabs are replaced by spaces so the message stays on one line.
public func oneLineErrorMessage(_ error: Error) -> String {
    let text = FileErrorText.describe(error) ?? "\(error)"
    return String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\t" ? " " : $0 })
}
