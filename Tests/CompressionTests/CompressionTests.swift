import Compression
import Foundation
import RandomStreams
import XCTest

final class RangeANSTests: XCTestCase {
    /// Raw uniform bits interleaved with table-coded symbols decode exactly.
    func testUniformBitsRoundTrip() throws {
        var random = RandomStream(seed: 8)
        let table = FrequencyTable(counts: [5, 1, 3])
        var items: [(symbol: Int, bits: Int, value: Int)] = []
        for _ in 0..<5000 {
            let bits = 1 + Int(random.uniform() * 15)
            items.append((Int(random.uniform() * 3), bits, Int(random.uniform() * Double(1 << bits))))
        }
        var encoder = RANSEncoder()
        for item in items.reversed() {
            encoder.encodeUniform(item.value, bits: item.bits)
            encoder.encode(item.symbol, table)
        }
        let stream = encoder.finish()
        try stream.withUnsafeBufferPointer { bytes in
            var decoder = try RANSDecoder(bytes)
            for item in items {
                XCTAssertEqual(try decoder.decode(table), item.symbol)
                XCTAssertEqual(try decoder.decodeUniform(bits: item.bits), item.value)
            }
            XCTAssertTrue(decoder.isComplete)
        }
    }

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
}

final class CoefficientCodeBookTests: XCTestCase {
    /// Codes of modes with spreads from 0.01 to 10⁶ steps, and a few far beyond any shift
    /// (escapes): decoded exactly, the stream within 1% + 5 bytes per field of `bits`.
    func testRoundTripAcrossSpreadsAndEscapes() throws {
        var random = RandomStream(seed: 12)
        let spreads: [Double] = [1e6, 3e4, 700, 40, 9, 2.5, 1, 0.4, 0.1, 0.01]
        let layout = CoefficientCodeBook.layout(spread: spreads)
        XCTAssertEqual(layout.shifts.map(Int.init), [15, 12, 7, 3, 1, 0, 0, 0, 0, 0])
        let fields = 400, modes = spreads.count
        var codes = [Int32]()
        for f in 0..<fields {
            for s in spreads { codes.append(Int32((random.gaussian() * s).rounded())) }
            if f % 97 == 0 { codes[f * modes + 4] = f % 2 == 0 ? Int32.max : Int32.min + 1 }
        }
        let book = try CoefficientCodeBook(shifts: layout.shifts, classes: layout.classes, fittedTo: codes)
        var bytes = 0
        for f in 0..<fields {
            let stream = book.encode(codes[(f * modes)..<((f + 1) * modes)])
            bytes += stream.count
            var decoded = [Int32](repeating: 0, count: modes)
            try stream.withUnsafeBufferPointer { s in try decoded.withUnsafeMutableBufferPointer { try book.decode(s, into: $0) } }
            XCTAssertEqual(decoded, Array(codes[(f * modes)..<((f + 1) * modes)]), "field \(f)")
        }
        let ideal = book.bits(codes) / 8
        XCTAssertLessThan(Double(bytes), ideal * 1.01 + Double(5 * fields))
        XCTAssertGreaterThan(Double(bytes), ideal * 0.99)
        // A stream decoded as a field of another length is refused.
        let stream = book.encode(codes[0..<modes])
        var short = [Int32](repeating: 0, count: modes - 1)
        XCTAssertThrowsError(try stream.withUnsafeBufferPointer { s in try short.withUnsafeMutableBufferPointer { try book.decode(s, into: $0) } })
        // A book expecting one more mode reads past the end of the stream.
        let more = try CoefficientCodeBook(shifts: layout.shifts + [0], classes: layout.classes + [layout.classes[5]], tables: book.tables)
        var long = [Int32](repeating: 0, count: modes + 1)
        XCTAssertThrowsError(try stream.withUnsafeBufferPointer { s in try long.withUnsafeMutableBufferPointer { try more.decode(s, into: $0) } })
    }
}

final class FieldBasisTests: XCTestCase {
    /// A random basis of 6 modes on 37 cells.
    func basis(step: Float = 0.05) throws -> FieldBasis {
        var random = RandomStream(seed: 21)
        let cells = 37, modes = 6
        let means = (0..<(12 * cells)).map { _ in Float(250 + 40 * random.uniform()) }
        let integers = (0..<(modes * cells)).map { _ in Int16((random.gaussian() * 3000).rounded()) }
        let scales = (0..<modes).map { Float(1e-4 * Double($0 + 1)) }
        return try FieldBasis(cells: cells, means: means, integers: integers, scales: scales, step: step)
    }

    /// The prediction against the formula in double precision (float32 rounding of a sum of
    /// 7 terms apart), and the same bits whatever the split of the fields into calls.
    func testPredictionMatchesReferenceAndDoesNotDependOnTheSplit() throws {
        let b = try basis()
        var random = RandomStream(seed: 5)
        let fields = 19, months = (0..<fields).map { 1 + $0 % 12 }
        let codes = (0..<(fields * b.modes)).map { k in k % 5 == 0 ? 0 : Int32((random.gaussian() * 400).rounded()) }
        var whole = [Float](repeating: 0, count: fields * b.cells)
        codes.withUnsafeBufferPointer { c in whole.withUnsafeMutableBufferPointer { b.predict(c, monthsOfYear: months, into: $0) } }
        for f in 0..<fields {
            for p in 0..<b.cells {
                var x = Double(b.means[(months[f] - 1) * b.cells + p])
                for i in 0..<b.modes {
                    x += Double(codes[f * b.modes + i]) * Double(b.step) * Double(b.integers[i * b.cells + p]) * Double(b.scales[i])
                }
                XCTAssertEqual(Double(whole[f * b.cells + p]), x, accuracy: 8 * Double(Float(300).ulp), "field \(f), cell \(p)")
            }
        }
        for split in [1, 7, 11] {
            var first = [Float](repeating: 0, count: split * b.cells), rest = [Float](repeating: 0, count: (fields - split) * b.cells)
            codes.withUnsafeBufferPointer { c in
                first.withUnsafeMutableBufferPointer {
                    b.predict(UnsafeBufferPointer(rebasing: c[0..<(split * b.modes)]), monthsOfYear: Array(months[0..<split]), into: $0)
                }
                rest.withUnsafeMutableBufferPointer {
                    b.predict(UnsafeBufferPointer(rebasing: c[(split * b.modes)...]), monthsOfYear: Array(months[split...]), into: $0)
                }
            }
            XCTAssertEqual(first + rest, whole, "split after \(split)")
        }
    }

    /// Codes are the anomalies' projections on the patterns in steps, rounded (reference:
    /// the sums in double precision; a tie within float rounding may go either way).
    func testCodesAreRoundedProjections() throws {
        let b = try basis(step: 0.01)
        var random = RandomStream(seed: 6)
        let fields = 9, months = (0..<fields).map { 12 - $0 }
        let values = (0..<(fields * b.cells)).map { k in b.means[(months[k / b.cells] - 1) * b.cells + k % b.cells] + Float(random.gaussian() * 2) }
        let codes = values.withUnsafeBufferPointer { b.codes($0, monthsOfYear: months) }
        XCTAssertEqual(codes.count, fields * b.modes)
        for f in 0..<fields {
            for i in 0..<b.modes {
                var projection = 0.0
                for p in 0..<b.cells {
                    projection += Double(values[f * b.cells + p] - b.means[(months[f] - 1) * b.cells + p]) * Double(b.patterns[i * b.cells + p])
                }
                XCTAssertEqual(Double(codes[f * b.modes + i]), projection / 0.01, accuracy: 0.5 + 1e-3 * abs(projection / 0.01))
            }
        }
    }

    /// Data made of three known orthonormal patterns with variances 9, 4 and 1 plus noise of
    /// variance 10⁻⁴: the EOFs are those patterns (|cosine| ≈ 1), orthonormal, with those
    /// variances within their sampling error (√(2/n) relative, n = 600: 6%, tested at 4σ).
    func testPrincipalPatternsRecoverKnownPatterns() throws {
        var random = RandomStream(seed: 30)
        let cells = 50, n = 600
        // Orthonormal patterns: discrete cosines.
        let known = (1...3).map { m in (0..<cells).map { p in cos(Double.pi * Double(m) * (Double(p) + 0.5) / Double(cells)) * (2 / Double(cells)).squareRoot() } }
        let sigmas = [3.0, 2.0, 1.0]
        var data = [Float]()
        for _ in 0..<n {
            let a = sigmas.map { $0 * random.gaussian() }
            for p in 0..<cells { data.append(Float((0..<3).reduce(0) { $0 + a[$1] * known[$1][p] } + 0.01 * random.gaussian())) }
        }
        let eofs = try FieldBasis.principalPatterns(data, count: n, cells: cells, maxModes: 5)
        XCTAssertEqual(eofs.variances.count, 5)
        for i in 0..<5 {
            let e = Array(eofs.patterns[(i * cells)..<((i + 1) * cells)])
            for j in 0..<5 {
                let other = eofs.patterns[(j * cells)..<((j + 1) * cells)]
                XCTAssertEqual(zip(e, other).reduce(0) { $0 + $1.0 * $1.1 }, i == j ? 1 : 0, accuracy: 1e-9)
            }
            if i < 3 {
                XCTAssertEqual(abs(zip(e, known[i]).reduce(0) { $0 + $1.0 * $1.1 }), 1, accuracy: 1e-3, "mode \(i)")
                XCTAssertEqual(eofs.variances[i], sigmas[i] * sigmas[i], accuracy: 4 * (2 / Double(n)).squareRoot() * sigmas[i] * sigmas[i])
            } else {
                XCTAssertLessThan(eofs.variances[i], 1e-3)
            }
        }
    }

    /// Quantised patterns stay within half a scale step of the originals, within 8 to 16 bits.
    func testQuantisedPatternsWithinHalfAStep() {
        let cells = 40
        let patterns = (0..<(3 * cells)).map { k in sin(Double(k) * 0.37) * 0.2 }
        let stored = FieldBasis.quantise(patterns: patterns, spreads: [100, 1, 1e-9], cells: cells, tolerance: 0.01)
        for i in 0..<3 {
            let largest = patterns[(i * cells)..<((i + 1) * cells)].map(abs).max()!
            XCTAssertGreaterThanOrEqual(Double(stored.scales[i]), largest / 32767 * 0.999)
            XCTAssertLessThanOrEqual(Double(stored.scales[i]), largest / 127 * 1.001)
            for p in 0..<cells {
                let k = i * cells + p
                XCTAssertEqual(Double(stored.integers[k]) * Double(stored.scales[i]), patterns[k], accuracy: Double(stored.scales[i]) * 0.5001)
            }
        }
        // The tolerance sets the step where the 8–16-bit limits allow: 0.01 / 100.
        XCTAssertEqual(Double(stored.scales[0]), 1e-4, accuracy: 1e-9)
    }
}
