import Compression
import Foundation
import RandomStreams
import XCTest

final class RangeANSTests: XCTestCase {
    /// Symbols drawn from a skewed distribution, coded with per-context tables: decoded
    /// exactly, in at most the ideal code length (−Σ log₂ f/total) plus the 4-byte state
    /// and 0.1%, which is what the scaled integer frequencies allow.
    func testRoundTripNearIdealLength() throws {
        var random = RandomStream(seed: 3)
        let n = 100_000, alphabet = 40
        var symbols = [Int](), contexts = [Int]()
        for _ in 0..<n {
            let context = Int(random.uniform() * 3)
            // Geometric-like: context 0 mostly symbol 0, context 2 spread out.
            let spread = [0.3, 2.0, 8.0][context]
            let s = min(alphabet - 1, Int(-log(1 - random.uniform()) * spread))
            symbols.append(s)
            contexts.append(context)
        }
        var counts = [[Int]](repeating: [Int](repeating: 0, count: alphabet), count: 3)
        for (s, c) in zip(symbols, contexts) { counts[c][s] += 1 }
        let tables = counts.map(FrequencyTable.init(counts:))
        for t in tables {
            XCTAssertEqual(t.frequencies.reduce(0) { $0 + Int($1) }, FrequencyTable.total)
        }
        for (c, row) in counts.enumerated() {
            for (s, count) in row.enumerated() where count > 0 { XCTAssertGreaterThan(tables[c].frequencies[s], 0) }
        }
        var encoder = RANSEncoder()
        for k in stride(from: n - 1, through: 0, by: -1) { encoder.encode(symbols[k], tables[contexts[k]]) }
        let bytes = encoder.finish()
        var ideal = 0.0
        for (s, c) in zip(symbols, contexts) { ideal += tables[c].bits(symbol: s) }
        XCTAssertLessThanOrEqual(Double(bytes.count * 8), ideal * 1.001 + 32)
        // The empirical entropy under the scaled tables is within 1% of the true entropy.
        var entropy = 0.0
        for row in counts {
            let total = Double(row.reduce(0, +))
            for c in row where c > 0 { entropy -= Double(c) * log2(Double(c) / total) }
        }
        XCTAssertLessThanOrEqual(ideal, entropy * 1.01)

        try bytes.withUnsafeBufferPointer { buffer in
            var decoder = try RANSDecoder(buffer)
            for k in 0..<n {
                let s = try decoder.decode(tables[contexts[k]])
                if s != symbols[k] { XCTFail("symbol \(k): \(s) != \(symbols[k])"); return }
            }
            XCTAssertTrue(decoder.isComplete)
        }
    }

    func testDamagedStreamsAreRefused() throws {
        let table = FrequencyTable(counts: [50, 30, 15, 5])
        var encoder = RANSEncoder()
        let symbols = (0..<2000).map { $0 % 7 == 0 ? 3 : $0 % 3 }
        for s in symbols.reversed() { encoder.encode(s, table) }
        let bytes = encoder.finish()
        // Cut short: decoding must throw, not read past the end.
        XCTAssertThrowsError(try Array(bytes.prefix(bytes.count / 2)).withUnsafeBufferPointer { buffer in
            var decoder = try RANSDecoder(buffer)
            for _ in symbols { _ = try decoder.decode(table) }
        })
        // A changed byte: some symbol differs or the final state check fails.
        var damaged = bytes
        damaged[bytes.count / 2] ^= 0x5a
        var detected = false
        try damaged.withUnsafeBufferPointer { buffer in
            var decoder = try RANSDecoder(buffer)
            var decoded: [Int] = []
            do {
                for _ in symbols { decoded.append(try decoder.decode(table)) }
                detected = decoded != symbols || !decoder.isComplete
            } catch { detected = true }
        }
        XCTAssertTrue(detected)
        XCTAssertThrowsError(try FrequencyTable(frequencies: [1, 2, 3]))
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 3).withUnsafeBufferPointer { try RANSDecoder($0) })
    }
}

final class ResidualQuantiserTests: XCTestCase {
    /// Random fields with outliers: every reconstructed value within the bound (checked in
    /// double precision here, from the symbols alone), escapes only beyond the cap, and the
    /// decoder reproduces the encoder's reconstruction bit for bit.
    func testBoundHoldsAndDecoderAgrees() throws {
        var random = RandomStream(seed: 11)
        let rows = 12, columns = 20, cells = rows * columns
        for bound in [0.001, 0.05, 0.5] {
            var residual = (0..<cells).map { _ in random.gaussian() * 0.3 }
            residual[17] = 1e4  // far beyond any cap: escaped
            residual[100] = -3
            let quantiser = try ResidualQuantiser(bound: bound, coefficients: [0.6, 0.3, -0.25], cap: 300)
            let classes = residual.withUnsafeBufferPointer { ResidualQuantiser.cellClasses($0, fields: 1, cells: cells) }
            XCTAssertEqual(Set(classes), [0, 1, 2, 3])
            var symbols = [UInt16](repeating: 0, count: cells), contexts = [UInt8](repeating: 0, count: cells)
            var rebuilt = [Double](repeating: 0, count: cells), magnitudes = [Int32](repeating: 0, count: cells)
            residual.withUnsafeBufferPointer { r in
                classes.withUnsafeBufferPointer { c in
                    symbols.withUnsafeMutableBufferPointer { s in
                        contexts.withUnsafeMutableBufferPointer { x in
                            rebuilt.withUnsafeMutableBufferPointer { out in
                                magnitudes.withUnsafeMutableBufferPointer { m in
                                    quantiser.quantise(r, rows: rows, columns: columns, classes: c, symbols: s, contexts: x,
                                                       reconstruction: out, magnitudes: m)
                                }
                            }
                        }
                    }
                }
            }
            for k in 0..<cells {
                if Int(symbols[k]) == quantiser.escape {
                    XCTAssertEqual(rebuilt[k], 0)
                } else {
                    XCTAssertLessThanOrEqual(abs(residual[k] - rebuilt[k]), bound * (1 + 1e-12), "cell \(k), bound \(bound)")
                }
            }
            XCTAssertEqual(Int(symbols[17]), quantiser.escape)
            var counts = [[Int]](repeating: [Int](repeating: 0, count: quantiser.alphabet), count: ResidualQuantiser.contextCount)
            for k in 0..<cells { counts[Int(contexts[k])][Int(symbols[k])] += 1 }
            let book = try ResidualCodeBook(quantiser: quantiser, classes: classes, counts: counts)
            let stream = symbols.withUnsafeBufferPointer { s in contexts.withUnsafeBufferPointer { c in book.encode(symbols: s, contexts: c) } }
            var decoded = [Double](repeating: .nan, count: cells), mags = [Int32](repeating: 0, count: cells)
            let escapes = try stream.withUnsafeBufferPointer { s in
                try decoded.withUnsafeMutableBufferPointer { d in
                    try mags.withUnsafeMutableBufferPointer { m in try book.decode(s, rows: rows, columns: columns, reconstruction: d, magnitudes: m) }
                }
            }
            XCTAssertEqual(decoded, rebuilt)
            XCTAssertEqual(escapes, (0..<cells).filter { Int(symbols[$0]) == quantiser.escape })
        }
    }

    /// Narrowing the cap rewrites symbols without changing what they stand for.
    func testNarrowedCapKeepsCodes() throws {
        let wide = try ResidualQuantiser(bound: 0.1, coefficients: [0, 0, 0], cap: ResidualQuantiser.maximumCap)
        var symbols: [UInt16] = [UInt16(wide.cap), UInt16(wide.cap + 3), UInt16(wide.cap - 2), UInt16(wide.escape)]
        let largest = symbols.withUnsafeBufferPointer { wide.largestCode($0) }
        XCTAssertEqual(largest, 3)
        let narrow = try symbols.withUnsafeMutableBufferPointer { try wide.narrowed(to: largest, symbols: $0) }
        XCTAssertEqual(symbols, [3, 6, 1, UInt16(narrow.escape)])
    }

    /// Least squares recovers the weights of a field made by that very recursion.
    func testFittedCoefficientsMatchTheGeneratingWeights() {
        var random = RandomStream(seed: 5)
        let rows = 64, columns = 64, fields = 20, (a, b, c) = (0.5, 0.35, -0.2)
        var r = [Double](repeating: 0, count: fields * rows * columns)
        for n in 0..<fields {
            for i in 0..<rows {
                for j in 0..<columns {
                    let k = n * rows * columns + i * columns + j
                    let left = j > 0 ? r[k - 1] : 0, up = i > 0 ? r[k - columns] : 0, ul = i > 0 && j > 0 ? r[k - columns - 1] : 0
                    r[k] = a * left + b * up + c * ul + random.gaussian()
                }
            }
        }
        let fitted = r.withUnsafeBufferPointer { ResidualQuantiser.fitCoefficients($0, fields: fields, rows: rows, columns: columns) }
        // Standard error of each weight ≈ 1/sqrt(n · var(regressor)) ≈ 1/sqrt(80000 · 1.5) ≈ 0.003.
        XCTAssertEqual(fitted[0], a, accuracy: 0.015)
        XCTAssertEqual(fitted[1], b, accuracy: 0.015)
        XCTAssertEqual(fitted[2], c, accuracy: 0.015)
        let zero = [Double](repeating: 0, count: 100).withUnsafeBufferPointer { ResidualQuantiser.fitCoefficients($0, fields: 1, rows: 10, columns: 10) }
        XCTAssertEqual(zero, [0, 0, 0])
    }

    func testLatentCodesRoundTrip() throws {
        let latents: [Float] = [0.26, -1.9, 3.0, 0, -0.74]
        let codes = LatentCodeBook.codes(latents, step: 0.5)
        XCTAssertEqual(codes, [1, -4, 6, 0, -1])
        XCTAssertEqual(LatentCodeBook.values(codes, step: 0.5), [0.5, -2, 3, 0, -0.5])
        let book = try LatentCodeBook(step: 0.5, fittedTo: codes)
        let stream = book.encode(codes[...])
        XCTAssertEqual(try stream.withUnsafeBufferPointer { try book.decode($0, count: codes.count) }, codes)
        XCTAssertThrowsError(try stream.withUnsafeBufferPointer { try book.decode($0, count: codes.count + 1) })
    }
}
