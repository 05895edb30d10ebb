import CBLAS
import Foundation

/// The prediction of a field from a few integer codes: the mean field of its month of year
/// plus a combination of orthogonal patterns (the data's leading EOFs, stored quantised),
/// x̂ = mean[month] + Σᵢ (step · codeᵢ) · patternᵢ.
///
/// x̂ is computed in float32 in one fixed order (modes in order, a multiply then an add per
/// term, no fused multiply-add), so the same codes give the same x̂ bit for bit on every
/// machine, thread count and build, and an error bound built on it holds wherever the file
/// is decoded.
public struct FieldBasis: Sendable {
    public let cells: Int
    /// Mean field of each month of year, [12 × cells] (K; annual data use month 1).
    public let means: [Float]
    /// The patterns as stored, [modes × cells]: patternᵢ = Float(integer) · scaleᵢ.
    public let integers: [Int16]
    public let scales: [Float]
    /// Coefficient quantisation step (K).
    public let step: Float
    /// The patterns, [modes × cells].
    public let patterns: [Float]
    public var modes: Int { scales.count }

    /// Largest |code|: coefficients beyond it (never in practice) are clipped, which only
    /// makes the prediction worse.
    public static let largestCode: Float = 1_073_741_824  // 2^30

    public init(cells: Int, means: [Float], integers: [Int16], scales: [Float], step: Float) throws {
        guard cells > 0, means.count == 12 * cells, integers.count == scales.count * cells else {
            throw CompressionError.corrupt("basis of \(integers.count) values and \(means.count) means does not fit \(scales.count) modes of \(cells) cells")
        }
        guard means.allSatisfy(\.isFinite), scales.allSatisfy({ $0.isFinite && $0 > 0 }), step.isFinite, step > 0 else {
            throw CompressionError.corrupt("basis means, scales or step are not finite and positive")
        }
        self.cells = cells
        self.means = means
        self.integers = integers
        self.scales = scales
        self.step = step
        var patterns = [Float](repeating: 0, count: integers.count)
        for i in 0..<scales.count {
            for p in 0..<cells { patterns[i * cells + p] = Float(integers[i * cells + p]) * scales[i] }
        }
        self.patterns = patterns
    }

    /// Codes [n × modes] of fields [n × cells] (K): their anomalies projected on the
    /// patterns, in steps, rounded.
    public func codes(_ fields: UnsafeBufferPointer<Float>, monthsOfYear: [Int]) -> [Int32] {
        FieldBasis.codes(projections: projections(fields, monthsOfYear: monthsOfYear), step: step)
    }

    /// Projections [n × modes] (K) of the anomalies of fields [n × cells] (K) on the patterns.
    public func projections(_ fields: UnsafeBufferPointer<Float>, monthsOfYear: [Int]) -> [Float] {
        let n = monthsOfYear.count, k = modes
        guard k > 0, n > 0 else { return [] }
        var anomalies = [Float](repeating: 0, count: n * cells)
        for (f, m) in monthsOfYear.enumerated() {
            for p in 0..<cells { anomalies[f * cells + p] = fields[f * cells + p] - means[(m - 1) * cells + p] }
        }
        var projections = [Float](repeating: 0, count: n * k)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(k), Int32(cells), 1, anomalies, Int32(cells),
                    patterns, Int32(cells), 0, &projections, Int32(k))
        return projections
    }

    /// Projections (K) in steps, rounded and clipped to ±`largestCode`.
    public static func codes(projections: [Float], step: Float) -> [Int32] {
        let limit = largestCode
        return projections.map { c in
            let q = (c / step).rounded()
            return q.isFinite ? Int32(min(limit, max(-limit, q))) : 0
        }
    }

    /// The prediction x̂ [n × cells] (K) of fields with `codes` [n × modes].
    public func predict(_ codes: UnsafeBufferPointer<Int32>, monthsOfYear: [Int], into out: UnsafeMutableBufferPointer<Float>) {
        let n = monthsOfYear.count, k = modes, cells = self.cells, step = self.step
        guard let o = out.baseAddress else { return }
        means.withUnsafeBufferPointer { means in
            for (f, m) in monthsOfYear.enumerated() {
                (o + f * cells).update(from: means.baseAddress! + (m - 1) * cells, count: cells)
            }
        }
        guard k > 0 else { return }
        patterns.withUnsafeBufferPointer { patterns in
            // Eight fields at a time, so each pattern is read from cache once per block.
            for block in stride(from: 0, to: n, by: 8) {
                for i in 0..<k {
                    let row = patterns.baseAddress! + i * cells
                    for f in block..<min(n, block + 8) {
                        let c = codes[f * k + i]
                        if c == 0 { continue }
                        let w = Float(c) * step, field = o + f * cells
                        for p in 0..<cells { field[p] = field[p] + w * row[p] }
                    }
                }
            }
        }
    }

    /// Mean fields rounded to multiples of `step` (K): the integer multiples, and the means
    /// they stand for, `Float(code) · step` (exact on every machine).
    public static func quantise(means: [Double], step: Float) -> (codes: [Int32], means: [Float]) {
        let codes = means.map { m -> Int32 in
            let q = (m / Double(step)).rounded()
            return q.isFinite ? Int32(max(-Double(Int32.max), min(Double(Int32.max), q))) : 0
        }
        return (codes, codes.map { Float($0) * step })
    }

    /// The leading `maxModes` EOFs of `anomalies` [n × cells] (K) as unit vectors
    /// [modes × cells] with the mean square of the data along each (K²), largest first;
    /// modes that carry nothing are left out. From the eigenvectors of the n × n Gram
    /// matrix (LAPACK dsyevr), so the cost grows with n² · cells, not cells³.
    public static func principalPatterns(_ anomalies: [Float], count n: Int, cells: Int, maxModes: Int) throws
        -> (patterns: [Double], variances: [Double]) {
        let k = min(maxModes, n, cells)
        guard k > 0 else { return ([], []) }
        let a = anomalies.map(Double.init)
        var gram = [Double](repeating: 0, count: n * n)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(cells), 1, a, Int32(cells), 0, &gram, Int32(n))
        var found: Int32 = 0
        var values = [Double](repeating: 0, count: n), vectors = [Double](repeating: 0, count: n * k)
        var support = [Int32](repeating: 0, count: 2 * k)
        let info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "I")), Int8(UInt8(ascii: "U")), Int32(n),
                                  &gram, Int32(n), 0, 0, Int32(n - k + 1), Int32(n), 0, &found, &values, &vectors, Int32(k), &support)
        guard info == 0, Int(found) == k else { throw CompressionError.corrupt("EOFs: LAPACKE_dsyevr failed (info \(info))") }
        var product = [Double](repeating: 0, count: k * cells)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(cells), Int32(n), 1, vectors, Int32(k), a, Int32(cells),
                    0, &product, Int32(cells))
        // dsyevr returns eigenvalues in ascending order.
        let largest = values[k - 1]
        var patterns: [Double] = [], variances: [Double] = []
        for j in stride(from: k - 1, through: 0, by: -1) where values[j] > 1e-10 * largest && values[j] > 0 {
            let norm = 1 / values[j].squareRoot()
            patterns += product[(j * cells)..<((j + 1) * cells)].map { $0 * norm }
            variances.append(values[j] / Double(n))
        }
        return (patterns, variances)
    }

    /// Patterns [modes × cells] stored as int16 with one scale per mode: the rounding of
    /// pattern i changes a prediction by at most `tolerance` / √12 RMS per cell when the
    /// coefficient has standard deviation `spreads[i]` (K), within 8 to 16 bits per value.
    public static func quantise(patterns: [Double], spreads: [Double], cells: Int, tolerance: Double) -> (integers: [Int16], scales: [Float]) {
        var integers = [Int16](repeating: 0, count: patterns.count), scales: [Float] = []
        for (i, spread) in spreads.enumerated() {
            let row = patterns[(i * cells)..<((i + 1) * cells)]
            let largest = max(row.lazy.map(abs).max() ?? 0, 1e-30)
            let wanted = spread > 0 ? tolerance / spread : largest
            let scale = Float(min(largest / 127, max(largest / 32767, wanted)))
            scales.append(scale)
            for (p, v) in row.enumerated() {
                integers[i * cells + p] = Int16(max(-32767, min(32767, (v / Double(scale)).rounded())))
            }
        }
        return (integers, scales)
    }
}
