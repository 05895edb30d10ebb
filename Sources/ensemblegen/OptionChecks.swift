import ArgumentParser

/// Range checks of option values for the commands' `validate()`. They run before any file
/// is opened and throw `ValidationError`s naming the option, which argument-parser prints
/// with the usage line (exit 64).
enum OptionCheck {
    /// Most members one file may hold: realization numbers are 32-bit, and the writer keeps
    /// a flag per member and time step. Larger ensembles are written in batches.
    static let maximumMembers = 100_000

    static func require(_ value: Int, in range: ClosedRange<Int>, _ option: String, _ hint: String = "") throws {
        guard range.contains(value) else {
            let bounds = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "\(range.lowerBound)–\(range.upperBound)"
            throw ValidationError("\(option) must be \(bounds), not \(value)\(hint.isEmpty ? "" : "; " + hint)")
        }
    }

    static func require(_ value: Int?, in range: ClosedRange<Int>, _ option: String, _ hint: String = "") throws {
        if let value { try require(value, in: range, option, hint) }
    }

    static func require<F: BinaryFloatingPoint>(_ value: F, in range: ClosedRange<F>, _ option: String) throws {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(option) must be a number in \(range.lowerBound)…\(range.upperBound), not \(value)")
        }
    }

    /// A positive finite number (learning rates, weights).
    static func requirePositive<F: BinaryFloatingPoint>(_ value: F, _ option: String) throws {
        guard value.isFinite, value > 0 else { throw ValidationError("\(option) must be a positive number, not \(value)") }
    }

    /// A file or directory name was given.
    static func requirePath(_ path: String?, _ option: String) throws {
        if let path, path.allSatisfy(\.isWhitespace) { throw ValidationError("\(option) needs a file name, not an empty text") }
    }

    /// Members `first ..< first + count` are numbered within 32-bit realization numbers and
    /// one file holds at most `maximumMembers`.
    static func requireMembers(_ count: Int, first: Int, _ option: String = "--members") throws {
        try require(count, in: 1...maximumMembers, option, "write larger ensembles in batches with --first-member")
        try require(first, in: 0...(Int(Int32.max) - count + 1), "--first-member", "realization numbers are 32-bit integers")
    }
}
