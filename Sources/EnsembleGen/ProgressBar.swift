import Foundation

/// A progress bar on standard error for long work (simulation, training, generation).
///
/// On a terminal it redraws one line (`label [#####.....] 12/40 members  3.1/s  ETA 0:10`);
/// when standard error is not a terminal (CI, log files) it prints a plain line at most
/// every `logInterval` seconds and at the end, so logs stay readable. `quiet` silences it.
public final class ProgressBar {
    public let label: String
    public let total: Int
    public let unit: String
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let isTerminal: Bool
    private let quiet: Bool
    private let logInterval: TimeInterval
    private var finished = false
    /// Extra text appended to the line, e.g. `loss 0.0123`.
    public var detail: String = ""

    /// - Parameters:
    ///   - total: number of steps (members, epochs, batches).
    ///   - unit: what a step is, plural ("members", "batches").
    public init(_ label: String, total: Int, unit: String, quiet: Bool = false, logInterval: TimeInterval = 10) {
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
        self.quiet = quiet
        self.logInterval = logInterval
        isTerminal = isatty(STDERR_FILENO) == 1
    }

    /// Reports that `done` of `total` steps are complete.
    public func update(_ done: Int, detail: String? = nil) {
        if let d = detail { self.detail = d }
        guard !quiet else { return }
        let now = Date()
        let complete = done >= total
        if isTerminal {
            guard complete || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        } else {
            guard complete || now.timeIntervalSince(lastDraw) >= logInterval else { return }
        }
        lastDraw = now
        let line = render(done: done, elapsed: now.timeIntervalSince(start))
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
        if complete { finish() }
    }

    /// Ends the bar (newline on a terminal). Idempotent.
    public func finish() {
        guard !finished else { return }
        finished = true
        if isTerminal && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// The text of the bar for `done` steps after `elapsed` seconds.
    public func render(done: Int, elapsed: TimeInterval) -> String {
        let width = 24
        let fraction = min(1, Double(done) / Double(total))
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var text = "\(label) [\(bar)] \(done)/\(total) \(unit)"
        if rate > 0 {
            text += rate >= 1 ? String(format: "  %.1f/s", rate) : String(format: "  %.1f/min", rate * 60)
            if done < total { text += "  ETA " + ProgressBar.clock((Double(total - done) / rate)) }
            else { text += "  in " + ProgressBar.clock(elapsed) }
        }
        if !detail.isEmpty { text += "  " + detail }
        return text
    }

    /// `h:mm:ss` or `m:ss`.
    static func clock(_ seconds: TimeInterval) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60)
                         : String(format: "%d:%02d", s / 60, s % 60)
    }
}
