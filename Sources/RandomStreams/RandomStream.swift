/// Counter-based random numbers (Philox-4×32-10, Salmon et al. 2011, "Parallel random
/// numbers: as easy as 1, 2, 3").
///
/// A `RandomStream` is identified by a 64-bit `seed` (the Philox key) and a 64-bit
/// `stream` id (the upper half of the 128-bit counter). Block `i` of a stream is
/// `philox(key: seed, counter: (i, stream))`, so any value of any stream can be computed
/// without generating the ones before it, and streams never overlap. This is the one
/// random-number generator of the project: the simulator, the baseline emulator, weight
/// initialisation and diffusion sampling all derive their streams from here.
///
/// Member `k` of an ensemble uses `RandomStream(seed: s).substream(k)` (optionally split
/// further by purpose), which makes its numbers independent of how many members are
/// generated, of the batch size and of the thread count.
public struct RandomStream: RandomNumberGenerator, Sendable {
    /// Philox key (two 32-bit words).
    public let seed: UInt64
    /// Stream id (upper 64 bits of the counter).
    public let stream: UInt64
    /// Index of the next 128-bit block to generate.
    public private(set) var blockIndex: UInt64 = 0
    private var buffer: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    private var bufferUsed = 4
    private var spareGaussian: Double? = nil

    public init(seed: UInt64, stream: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
    }

    /// An independent stream derived from this one and `index` (e.g. a member index, then a
    /// purpose such as "ENSO" or "weather"). Derivation hashes (stream, index), so
    /// `substream(a).substream(b)` and `substream(b).substream(a)` differ.
    public func substream(_ index: UInt64) -> RandomStream {
        RandomStream(seed: seed, stream: RandomStream.mix(stream &* 0x9E37_79B9_7F4A_7C15 ^ RandomStream.mix(index &+ 0x632B_E59B_D9B4_E019)))
    }

    /// Substream named by a label (stable across runs: FNV-1a of the UTF-8 bytes).
    public func substream(_ label: String) -> RandomStream {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return substream(h)
    }

    /// SplitMix64 finaliser: a bijective 64-bit mixer.
    @inlinable
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The Philox-4×32-10 bijection of a 128-bit counter under a 64-bit key.
    public static func philox(counter: (UInt32, UInt32, UInt32, UInt32), key: UInt64)
        -> (UInt32, UInt32, UInt32, UInt32)
    {
        var c = counter
        var k0 = UInt32(truncatingIfNeeded: key)
        var k1 = UInt32(truncatingIfNeeded: key >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c.0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c.2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            c = (hi1 ^ c.1 ^ k0, lo1, hi0 ^ c.3 ^ k1, lo0)
            k0 = k0 &+ 0x9E37_79B9
            k1 = k1 &+ 0xBB67_AE85
        }
        return c
    }

    /// Jump to block `index` of this stream (random access).
    public mutating func seek(toBlock index: UInt64) {
        blockIndex = index
        bufferUsed = 4
        spareGaussian = nil
    }

    @inline(__always)
    public mutating func nextUInt32() -> UInt32 {
        if bufferUsed == 4 {
            buffer = RandomStream.philox(
                counter: (UInt32(truncatingIfNeeded: blockIndex), UInt32(truncatingIfNeeded: blockIndex >> 32),
                          UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)),
                key: seed)
            blockIndex &+= 1
            bufferUsed = 0
        }
        defer { bufferUsed += 1 }
        switch bufferUsed {
        case 0: return buffer.0
        case 1: return buffer.1
        case 2: return buffer.2
        default: return buffer.3
        }
    }

    public mutating func next() -> UInt64 {
        UInt64(nextUInt32()) << 32 | UInt64(nextUInt32())
    }

    /// Uniform in the open interval (0, 1), 53-bit resolution.
    @inline(__always)
    public mutating func uniform() -> Double {
        (Double(next() >> 11) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal variate (Box–Muller; pairs are used in order).
    @inline(__always)
    public mutating func gaussian() -> Double {
        if let g = spareGaussian {
            spareGaussian = nil
            return g
        }
        let u1 = uniform(), u2 = uniform()
        let r = (-2.0 * _log(u1)).squareRoot()
        let theta = 2.0 * Double.pi * u2
        spareGaussian = r * _sin(theta)
        return r * _cos(theta)
    }

    /// Fills `values` with independent N(mean, sd²) Float32 variates.
    public mutating func fillGaussian(_ values: inout [Float], mean: Float = 0, standardDeviation: Float = 1) {
        for i in values.indices { values[i] = mean + standardDeviation * Float(gaussian()) }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Glibc.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif
