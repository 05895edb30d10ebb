import Foundation

extension FileDigest {
    /// The SHA-256 of a file's content (64 hex digits), read in blocks so memory does not grow
    /// with its size: the checksum written into output files for provenance (FIPS 180-4,
    /// implemented here because Foundation on Linux has none and the package takes no new
    /// dependency).
    public static func sha256(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw EnsembleGenError("\(path): cannot read the file to compute its SHA-256")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty { hasher.update(block) }
        return hasher.finalize()
    }

    /// The SHA-256 of `bytes` (hex).
    public static func sha256(_ bytes: Data) -> String {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// Incremental SHA-256.
struct SHA256 {
    private var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    mutating func update(_ data: Data) {
        length &+= UInt64(data.count)
        var bytes = pending
        bytes.append(contentsOf: data)
        let whole = bytes.count / 64 * 64
        bytes.withUnsafeBufferPointer { b in
            var w = [UInt32](repeating: 0, count: 64)
            for start in stride(from: 0, to: whole, by: 64) { compress(b, at: start, schedule: &w) }
        }
        pending = Array(bytes[whole...])
    }

    private mutating func compress(_ b: UnsafeBufferPointer<UInt8>, at start: Int, schedule w: inout [UInt32]) {
        for t in 0..<16 {
            let i = start + 4 * t
            w[t] = UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
        }
        func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
        for t in 16..<64 {
            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
        }
        var (a, bb, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for t in 0..<64 {
            let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ SHA256.k[t] &+ w[t]
            let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & bb) ^ (a & c) ^ (bb & c))
            (hh, g, f, e, d, c, bb, a) = (g, f, e, d &+ t1, c, bb, a, t1 &+ t2)
        }
        for (i, v) in [a, bb, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ v }
    }

    /// Pads, processes the last block(s) and returns the digest as hex.
    mutating func finalize() -> String {
        let bits = length &* 8
        var tail = Data([0x80])
        tail.append(contentsOf: [UInt8](repeating: 0, count: (119 - pending.count) % 64))
        tail.append(contentsOf: (0..<8).map { UInt8(truncatingIfNeeded: bits >> (56 - 8 * UInt64($0))) })
        length &-= UInt64(tail.count) // padding does not count towards the message length
        update(tail)
        return h.map { String(format: "%08x", $0) }.joined()
    }
}
