import Foundation

/// Static-model range asymmetric numeral systems (rANS): an entropy coder that stores a
/// sequence of symbols in close to −Σ log₂ p(symbol) bits, with one frequency table per
/// context. Byte-wise renormalisation, 32-bit state (Duda 2013; the layout of Giesen's
/// public-domain ryg_rans).
///
/// Deflate codes each byte in at least one bit; the quantised residuals of a good predictor
/// carry 0.2–3 bits per value, so deflate would waste up to a bit per value where this
/// coder stays within about 1% of the entropy.

/// Symbol frequencies scaled to sum to `FrequencyTable.total`, every occurring symbol at
/// least 1, with the cumulative starts and a slot → symbol lookup for decoding.
public struct FrequencyTable: Equatable, Sendable {
    /// log₂ of the sum of the frequencies.
    public static let scaleBits = 15
    public static let total = 1 << scaleBits

    /// Frequency of each symbol 0..<count (sum `total`).
    public let frequencies: [UInt32]
    let starts: [UInt32]
    let slots: [UInt16]

    /// Scales symbol counts (alphabet `counts.count` ≤ 32768) to sum `total`, keeping every
    /// occurring symbol at 1 or more. All-zero counts give a table with symbol 0 only.
    public init(counts: [Int]) {
        let n = counts.count
        var counts = counts
        if counts.allSatisfy({ $0 == 0 }) { counts[0] = 1 }
        let sum = counts.reduce(0, +)
        var frequencies = counts.map { c -> Int in
            c == 0 ? 0 : max(1, Int((Double(c) * Double(FrequencyTable.total) / Double(sum)).rounded()))
        }
        // Move the rounding surplus or deficit onto the largest frequencies, never below 1.
        var excess = frequencies.reduce(0, +) - FrequencyTable.total
        let order = (0..<n).sorted { frequencies[$0] > frequencies[$1] }
        while excess != 0 {
            for k in order where excess != 0 {
                if excess > 0 {
                    if frequencies[k] > 1 { frequencies[k] -= 1; excess -= 1 }
                } else if frequencies[k] > 0 {
                    frequencies[k] += 1; excess += 1
                }
            }
        }
        try! self.init(frequencies: frequencies.map(UInt32.init))
    }

    /// A table read back from a file: frequencies must sum to `total`.
    public init(frequencies: [UInt32]) throws {
        guard !frequencies.isEmpty, frequencies.count <= 1 << 16,
              frequencies.reduce(0, { $0 + Int($1) }) == FrequencyTable.total else {
            throw CompressionError.corrupt("a frequency table does not sum to \(FrequencyTable.total)")
        }
        self.frequencies = frequencies
        var starts = [UInt32](repeating: 0, count: frequencies.count)
        var slots = [UInt16](repeating: 0, count: FrequencyTable.total)
        var start: UInt32 = 0
        for (s, f) in frequencies.enumerated() {
            starts[s] = start
            for k in Int(start)..<Int(start + f) { slots[k] = UInt16(s) }
            start += f
        }
        self.starts = starts
        self.slots = slots
    }

    /// Ideal code length in bits of `count` occurrences of `symbol` under this table.
    public func bits(symbol: Int, count: Int = 1) -> Double {
        Double(count) * (Double(FrequencyTable.scaleBits) - log2(Double(frequencies[symbol])))
    }
}

/// Errors of compressed data that cannot be decoded.
public enum CompressionError: Error, CustomStringConvertible, Equatable {
    case corrupt(String)
    public var description: String {
        switch self {
        case .corrupt(let problem): "compressed data are damaged: \(problem)"
        }
    }
}

private let lowerBound: UInt32 = 1 << 23

/// Encodes symbols; rANS works last-in first-out, so `encode` is given them in reverse and
/// `finish` returns the bytes in the order `RANSDecoder` reads them.
public struct RANSEncoder {
    private var state: UInt32 = lowerBound
    private var reversed: [UInt8] = []

    public init() {}

    /// Pushes `symbol`, which must have a non-zero frequency in `table`.
    @inline(__always)
    public mutating func encode(_ symbol: Int, _ table: FrequencyTable) {
        let f = table.frequencies[symbol], start = table.starts[symbol]
        let limit = ((lowerBound >> UInt32(FrequencyTable.scaleBits)) << 8) &* f
        while state >= limit {
            reversed.append(UInt8(truncatingIfNeeded: state))
            state >>= 8
        }
        state = ((state / f) << UInt32(FrequencyTable.scaleBits)) &+ (state % f) &+ start
    }

    /// Pushes `value` (0..<2^bits, bits 1…15) with equal probability for every value: raw
    /// bits that no table would shrink.
    @inline(__always)
    public mutating func encodeUniform(_ value: Int, bits: Int) {
        let f = UInt32(1) << UInt32(FrequencyTable.scaleBits - bits), start = UInt32(value) << UInt32(FrequencyTable.scaleBits - bits)
        let limit = ((lowerBound >> UInt32(FrequencyTable.scaleBits)) << 8) &* f
        while state >= limit {
            reversed.append(UInt8(truncatingIfNeeded: state))
            state >>= 8
        }
        state = ((state / f) << UInt32(FrequencyTable.scaleBits)) &+ (state % f) &+ start
    }

    /// The stream: the final state (4 bytes) then the renormalisation bytes, decoder order.
    public mutating func finish() -> [UInt8] {
        for _ in 0..<4 {
            reversed.append(UInt8(truncatingIfNeeded: state))
            state >>= 8
        }
        return reversed.reversed()
    }
}

/// Decodes a stream of `RANSEncoder` in the original symbol order. Reading past the end of
/// the stream or a state outside the coder's range is reported as corrupt data.
public struct RANSDecoder {
    private var state: UInt32 = 0
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    /// - Throws: `CompressionError` when the stream is shorter than its 4-byte header.
    public init(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        guard bytes.count >= 4 else { throw CompressionError.corrupt("a stream of \(bytes.count) bytes is shorter than its header") }
        self.bytes = bytes
        for k in 0..<4 { state = (state << 8) | UInt32(bytes[k]) }
        position = 4
        guard state >= lowerBound else { throw CompressionError.corrupt("a stream starts outside the coder's range") }
    }

    @inline(__always)
    public mutating func decode(_ table: FrequencyTable) throws -> Int {
        let slot = state & UInt32(FrequencyTable.total - 1)
        let symbol = Int(table.slots[Int(slot)])
        state = table.frequencies[symbol] &* (state >> UInt32(FrequencyTable.scaleBits)) &+ slot &- table.starts[symbol]
        while state < lowerBound {
            guard position < bytes.count else { throw CompressionError.corrupt("a stream ends early") }
            state = (state << 8) | UInt32(bytes[position])
            position += 1
        }
        return symbol
    }

    /// Reads a value `RANSEncoder.encodeUniform` pushed with `bits` (1…15).
    @inline(__always)
    public mutating func decodeUniform(bits: Int) throws -> Int {
        let shift = UInt32(FrequencyTable.scaleBits - bits)
        let slot = state & UInt32(FrequencyTable.total - 1)
        let value = slot >> shift
        state = (UInt32(1) << shift) &* (state >> UInt32(FrequencyTable.scaleBits)) &+ slot &- (value << shift)
        while state < lowerBound {
            guard position < bytes.count else { throw CompressionError.corrupt("a stream ends early") }
            state = (state << 8) | UInt32(bytes[position])
            position += 1
        }
        return Int(value)
    }

    /// True when every byte was consumed and the state returned to its start: the stream
    /// held exactly the symbols decoded.
    public var isComplete: Bool { position == bytes.count && state == lowerBound }
}
