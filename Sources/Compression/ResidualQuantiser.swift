/// Error-bounded coding of a field's residual r = x − x̂ after a prediction x̂ (a
/// `FieldBasis`), on a grid [rows, columns] visited row by row.
///
/// Each value is predicted from its already reconstructed neighbours,
/// p = a·r̃(left) + b·r̃(up) + c·r̃(up-left), and the difference quantised to a multiple of
/// 2·bound: q = round((r − p) / (2·bound)), r̃ = p + 2·bound·q, so |r − r̃| ≤ bound. Codes
/// with |q| > `cap` are escaped: the value is stored exactly and its r̃ taken as 0.
///
/// r̃ depends only on the codes and the coefficients, in double precision with a fixed
/// order of operations, so it is the same on every machine and thread count.
public struct ResidualQuantiser: Equatable, Sendable {
    /// Half the quantisation step: |r − r̃| ≤ bound for every coded value.
    public let bound: Double
    /// Neighbour weights (left, up, up-left).
    public let coefficients: [Double]
    /// Largest |q| coded as a symbol; symbols are q + cap in 0...2·cap, escape 2·cap + 1.
    public let cap: Int

    /// Contexts: the frequency table of a value depends on its cell's class (quartile of the
    /// cell's residual RMS over the member: residuals are larger at high latitudes and over
    /// land) and on how large its left and upper neighbours' codes are.
    public static let neighbourContexts = 7
    public static let cellClasses = 4
    public static let contextCount = neighbourContexts * cellClasses
    /// Largest cap: alphabets stay within 4096 symbols per table.
    public static let maximumCap = 2047

    public init(bound: Double, coefficients: [Double], cap: Int) throws {
        guard bound > 0, bound.isFinite else { throw CompressionError.corrupt("error bound \(bound) is not positive") }
        guard coefficients.count == 3, coefficients.allSatisfy({ $0.isFinite && abs($0) <= 4 }) else {
            throw CompressionError.corrupt("predictor coefficients \(coefficients) are not 3 numbers within ±4")
        }
        guard (0...ResidualQuantiser.maximumCap).contains(cap) else { throw CompressionError.corrupt("code cap \(cap) outside 0…\(ResidualQuantiser.maximumCap)") }
        self.bound = bound
        self.coefficients = coefficients
        self.cap = cap
    }

    public var alphabet: Int { 2 * cap + 2 }
    public var escape: Int { 2 * cap + 1 }

    /// The same quantiser with a smaller cap, and `symbols` (made with this one) rewritten
    /// for it; no code may exceed the new cap. Reconstructions and contexts are unchanged
    /// (an escape's context magnitude does not depend on the cap).
    public func narrowed(to newCap: Int, symbols: UnsafeMutableBufferPointer<UInt16>) throws -> ResidualQuantiser {
        let narrow = try ResidualQuantiser(bound: bound, coefficients: coefficients, cap: newCap)
        let oldEscape = UInt16(escape), newEscape = UInt16(narrow.escape), shift = cap - newCap
        for k in symbols.indices {
            symbols[k] = symbols[k] == oldEscape ? newEscape : UInt16(Int(symbols[k]) - shift)
        }
        return narrow
    }

    /// The largest |code| among `symbols` that are not escapes.
    public func largestCode(_ symbols: UnsafeBufferPointer<UInt16>) -> Int {
        let escape = UInt16(self.escape)
        var largest = 0
        for s in symbols where s != escape { largest = max(largest, abs(Int(s) - cap)) }
        return largest
    }

    /// Context of a value from the code magnitudes of its left and upper neighbours.
    @inline(__always)
    static func context(_ left: Int32, _ up: Int32) -> Int {
        let s = left + up
        switch s {
        case 0: return 0
        case 1: return 1
        case 2: return 2
        case 3...4: return 3
        case 5...8: return 4
        case 9...16: return 5
        default: return 6
        }
    }

    /// Visits the field row by row: for each value, `choose(index, prediction, context)`
    /// returns its symbol, and the reconstruction r̃ is written to `reconstruction`.
    @inline(__always)
    func traverse(rows: Int, columns: Int, classes: UnsafeBufferPointer<UInt8>, reconstruction r: UnsafeMutableBufferPointer<Double>,
                  magnitudes: UnsafeMutableBufferPointer<Int32>,
                  _ choose: (_ index: Int, _ prediction: Double, _ context: Int) throws -> Int) rethrows {
        let a = coefficients[0], b = coefficients[1], c = coefficients[2]
        let step = 2 * bound, cap = self.cap, escape = self.escape
        for i in 0..<rows {
            for j in 0..<columns {
                let k = i * columns + j
                let left = j > 0 ? r[k - 1] : 0, up = i > 0 ? r[k - columns] : 0
                let upLeft = i > 0 && j > 0 ? r[k - columns - 1] : 0
                let prediction = (a * left + b * up) + c * upLeft
                let context = Int(classes[k]) * ResidualQuantiser.neighbourContexts
                    + ResidualQuantiser.context(j > 0 ? magnitudes[k - 1] : 0, i > 0 ? magnitudes[k - columns] : 0)
                let symbol = try choose(k, prediction, context)
                if symbol == escape {
                    r[k] = 0
                    magnitudes[k] = Int32(ResidualQuantiser.maximumCap + 1)
                } else {
                    let q = symbol - cap
                    r[k] = prediction + step * Double(q)
                    magnitudes[k] = Int32(abs(q))
                }
            }
        }
    }

    /// Symbols and contexts of `residual` [rows × columns]; `reconstruction` receives r̃
    /// (0 at escapes). Non-finite residuals are escaped.
    public func quantise(_ residual: UnsafeBufferPointer<Double>, rows: Int, columns: Int, classes: UnsafeBufferPointer<UInt8>,
                         symbols: UnsafeMutableBufferPointer<UInt16>, contexts: UnsafeMutableBufferPointer<UInt8>,
                         reconstruction: UnsafeMutableBufferPointer<Double>, magnitudes: UnsafeMutableBufferPointer<Int32>) {
        let step = 2 * bound, cap = Double(self.cap), escape = self.escape
        traverse(rows: rows, columns: columns, classes: classes, reconstruction: reconstruction, magnitudes: magnitudes) { k, prediction, context in
            let q = ((residual[k] - prediction) / step).rounded()
            let symbol = q.isFinite && abs(q) <= cap ? Int(q + cap) : escape
            symbols[k] = UInt16(symbol)
            contexts[k] = UInt8(context)
            return symbol
        }
    }

    /// Decodes one field's symbols from `decoder` with the context tables, writing r̃ (0 at
    /// escapes, whose indices go to `escapes`).
    public func reconstruct(from decoder: inout RANSDecoder, tables: [FrequencyTable], rows: Int, columns: Int, classes: UnsafeBufferPointer<UInt8>,
                            into reconstruction: UnsafeMutableBufferPointer<Double>, magnitudes: UnsafeMutableBufferPointer<Int32>,
                            escapes: inout [Int]) throws {
        let alphabet = self.alphabet, escape = self.escape
        try traverse(rows: rows, columns: columns, classes: classes, reconstruction: reconstruction, magnitudes: magnitudes) { k, _, context in
            let symbol = try decoder.decode(tables[context])
            guard symbol < alphabet else { throw CompressionError.corrupt("symbol \(symbol) outside the alphabet of \(alphabet)") }
            if symbol == escape { escapes.append(k) }
            return symbol
        }
    }

    /// Least-squares neighbour weights for residual fields [n, rows, columns] (0 when the
    /// fields carry no information), clamped to ±1.
    public static func fitCoefficients(_ residual: UnsafeBufferPointer<Double>, fields: Int, rows: Int, columns: Int) -> [Double] {
        // Normal equations of r(i,j) ≈ a·r(i,j−1) + b·r(i−1,j) + c·r(i−1,j−1).
        var m = [Double](repeating: 0, count: 9), v = [Double](repeating: 0, count: 3)
        let cells = rows * columns
        for n in 0..<fields {
            let base = n * cells
            for i in 1..<max(rows, 1) {
                for j in 1..<max(columns, 1) {
                    let k = base + i * columns + j
                    let x = [residual[k - 1], residual[k - columns], residual[k - columns - 1]], y = residual[k]
                    guard y.isFinite, x.allSatisfy(\.isFinite) else { continue }
                    for p in 0..<3 {
                        v[p] += x[p] * y
                        for q in 0..<3 { m[p * 3 + q] += x[p] * x[q] }
                    }
                }
            }
        }
        guard let solution = solve3(m, v) else { return [0, 0, 0] }
        return solution.map { $0.isFinite ? min(1, max(-1, $0)) : 0 }
    }

    /// Each cell's class 0..<cellClasses: the quartile of its residual RMS over the fields
    /// [n, cells] among all cells.
    public static func cellClasses(_ residual: UnsafeBufferPointer<Double>, fields: Int, cells: Int) -> [UInt8] {
        var squares = [Double](repeating: 0, count: cells)
        for n in 0..<fields {
            for c in 0..<cells where residual[n * cells + c].isFinite { squares[c] += residual[n * cells + c] * residual[n * cells + c] }
        }
        let sorted = squares.sorted()
        let thresholds = (1..<cellClasses).map { sorted[min(cells - 1, $0 * cells / cellClasses)] }
        return squares.map { s in UInt8(thresholds.filter { s >= $0 }.count) }
    }

    /// Solves the 3×3 symmetric system by Cramer's rule; nil when it is (nearly) singular.
    static func solve3(_ m: [Double], _ v: [Double]) -> [Double]? {
        func det(_ a: [Double]) -> Double {
            a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6])
        }
        let d = det(m)
        let scale = m[0] * m[4] * m[8]
        guard d.isFinite, scale > 0, abs(d) > 1e-9 * scale else { return nil }
        return (0..<3).map { column in
            var a = m
            for row in 0..<3 { a[row * 3 + column] = v[row] }
            return det(a) / d
        }
    }
}
