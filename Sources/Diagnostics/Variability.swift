import Foundation
import CBLAS

/// Grid-point anomalies that measure internal variability: the forced signal and the
/// seasonal cycle removed.
///
/// With K ≥ 2 members the anomaly of member m is (x_m − x̄)·√(K/(K−1)), x̄ the ensemble mean
/// at the same month and cell: this removes the seasonal cycle and the forced response
/// together, and the factor restores the variance lost to the finite-ensemble mean (for
/// exchangeable members E[a²] = σ²). With one member the per-cell monthly climatology (for
/// annual fields the mean) and then a per-cell least-squares line are removed instead.
struct InternalAnomalies {
    let fields: EnsembleFields
    private let reference: [Double]       // (time, cell): ensemble mean, or climatology + trend
    private let scale: Double

    init(_ fields: EnsembleFields) {
        self.fields = fields
        let K = fields.memberCount, T = fields.timeCount, n = fields.cellCount
        var ref = [Double](repeating: 0, count: T * n)
        if K >= 2 {
            var cnt = [Double](repeating: 0, count: T * n)
            fields.values.withUnsafeBufferPointer { v in
                for m in 0..<K { for t in 0..<T {
                    let b = fields.offset(member: m, time: t)
                    for c in 0..<n { let x = v[b + c]; if x.isFinite { ref[t * n + c] += Double(x); cnt[t * n + c] += 1 } else { ref[t * n + c] = .nan } }
                } }
            }
            for i in ref.indices { ref[i] /= cnt[i] }
            scale = (Double(K) / Double(K - 1)).squareRoot()
        } else {
            let clim = fields.cellClimatology(basePeriod: nil), months = fields.climatologyMonths
            // Least-squares line through the deseasonalised series of each cell.
            let tMean = Double(T - 1) / 2
            var sty = [Double](repeating: 0, count: n), sy = sty, stt = 0.0
            for t in 0..<T { stt += (Double(t) - tMean) * (Double(t) - tMean) }
            for t in 0..<T {
                let cb = (months[t] - 1) * n
                for c in 0..<n {
                    let y = Double(fields.values[t * n + c]) - clim[cb + c]
                    sy[c] += y; sty[c] += (Double(t) - tMean) * y
                }
            }
            for t in 0..<T {
                let cb = (months[t] - 1) * n
                for c in 0..<n { ref[t * n + c] = clim[cb + c] + sy[c] / Double(T) + sty[c] / stt * (Double(t) - tMean) }
            }
            scale = 1
        }
        reference = ref
    }

    /// Writes the anomaly field of (member, time) into `out` (count cellCount; NaN = missing).
    @inline(__always)
    func fill(member m: Int, time t: Int, into out: inout [Double]) {
        let n = fields.cellCount, b = fields.offset(member: m, time: t)
        fields.values.withUnsafeBufferPointer { v in
            for c in 0..<n { out[c] = (Double(v[b + c]) - reference[t * n + c]) * scale }
        }
    }

    /// Cells whose anomaly is finite at every member and time.
    func validCells() -> [Int] {
        let n = fields.cellCount
        var ok = [Bool](repeating: true, count: n)
        var buf = [Double](repeating: 0, count: n)
        for m in 0..<fields.memberCount { for t in 0..<fields.timeCount {
            fill(member: m, time: t, into: &buf)
            for c in 0..<n where !buf[c].isFinite { ok[c] = false }
        } }
        return (0..<n).filter { ok[$0] }
    }
}

/// Empirical orthogonal functions of area-weighted anomalies.
public struct EOFResult: Sendable {
    /// Fraction of the total (area-weighted) variance explained by each leading mode.
    public var varianceFractions: [Double]
    /// Eigenvalues of the area-weighted covariance (unit², e.g. K², with weights summing to 1).
    public var eigenvalues: [Double]
    /// Total area-weighted variance (trace of the covariance).
    public var totalVariance: Double
    /// Patterns, one per mode, count `cellCount` each: the regression of the anomalies on
    /// the unit-variance principal component (field unit per standard deviation); NaN at
    /// cells excluded as missing. Sign chosen so the area-weighted sum is positive.
    public var patterns: [[Double]]
}

/// Principal component analysis on LAPACK.
public enum EOF {
    /// EOFs of the internal-variability anomalies of `fields` (see `InternalAnomalies`),
    /// every member and month a sample, each cell weighted by √(area weight).
    /// The covariance C = XᵀX/(N−1) (P × P, P valid cells) is accumulated with `cblas_ssyrk`
    /// over blocks of rows (block products summed in double) and diagonalised with
    /// `LAPACKE_dsyevd`.
    public static func analyze(_ fields: EnsembleFields, modeCount: Int = 10) throws -> EOFResult {
        let anomalies = InternalAnomalies(fields)
        let valid = anomalies.validCells()
        let K = fields.memberCount, T = fields.timeCount
        var buf = [Double](repeating: 0, count: fields.cellCount)
        return try analyze(rowCount: K * T, cellCount: fields.cellCount, validCells: valid,
                           weights: fields.grid.areaWeights, modeCount: modeCount) { row, out in
            anomalies.fill(member: row / T, time: row % T, into: &buf)
            for (j, c) in valid.enumerated() { out[j] = buf[c] }
        }
    }

    /// General driver: `fillRow(r, &row)` writes sample r's anomalies at `validCells`
    /// (already demeaned or not: the column means are removed here). Up to
    /// `exactCellLimit` valid cells the full covariance is diagonalised (`exact`); beyond,
    /// only the leading modes are computed (`truncated`).
    static func analyze(rowCount N: Int, cellCount: Int, validCells: [Int], weights: [Double], modeCount: Int,
                        fillRow: (Int, inout [Double]) -> Void) throws -> EOFResult {
        validCells.count <= exactCellLimit
            ? try exact(rowCount: N, cellCount: cellCount, validCells: validCells, weights: weights, modeCount: modeCount, fillRow: fillRow)
            : try truncated(rowCount: N, cellCount: cellCount, validCells: validCells, weights: weights, modeCount: modeCount, fillRow: fillRow)
    }

    /// Every mode, from the full P × P covariance (P valid cells).
    static func exact(rowCount N: Int, cellCount: Int, validCells: [Int], weights: [Double], modeCount: Int,
                      fillRow: (Int, inout [Double]) -> Void) throws -> EOFResult {
        let P = validCells.count
        guard P >= 1, N >= 2 else { throw DiagnosticsError.insufficientData("EOF needs ≥ 2 samples and ≥ 1 valid cell (got \(N), \(P))") }
        let sw = validCells.map { weights[$0].squareRoot() }
        // Blocks of rows are multiplied in single precision (cblas_ssyrk, twice the speed of
        // dsyrk) and each block's product is added to a double-precision accumulator.
        let block = 1024
        var rows = [Float](repeating: 0, count: block * P)
        var row = [Double](repeating: 0, count: P)
        var colSum = [Double](repeating: 0, count: P)
        var cov = [Double](repeating: 0, count: P * P)
        var part = [Float](repeating: 0, count: P * P)
        var r0 = 0
        while r0 < N {
            let nb = min(block, N - r0)
            for i in 0..<nb {
                fillRow(r0 + i, &row)
                for j in 0..<P { let x = row[j] * sw[j]; rows[i * P + j] = Float(x); colSum[j] += Double(Float(x)) }
            }
            rows.withUnsafeBufferPointer { a in part.withUnsafeMutableBufferPointer { c in
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(P), Int32(nb), 1.0, a.baseAddress, Int32(P), 0.0, c.baseAddress, Int32(P))
            } }
            for i in 0..<P { for j in i..<P { cov[i * P + j] += Double(part[i * P + j]) } }
            r0 += nb
        }
        // Remove the column means: C = (XᵀX − N·μμᵀ)/(N − 1) (upper triangle).
        let mu = colSum.map { $0 / Double(N) }
        for i in 0..<P { for j in i..<P { cov[i * P + j] = (cov[i * P + j] - Double(N) * mu[i] * mu[j]) / Double(N - 1) } }
        var total = 0.0
        for i in 0..<P { total += cov[i * P + i] }
        guard total > 0, cov.allSatisfy(\.isFinite) else {
            throw DiagnosticsError.insufficientData("no variability to decompose into EOFs: the members are identical, or the anomalies constant")
        }
        var eig = [Double](repeating: 0, count: P)
        let info = cov.withUnsafeMutableBufferPointer { c in eig.withUnsafeMutableBufferPointer { w in
            LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(P), c.baseAddress, Int32(P), w.baseAddress)
        } }
        guard info == 0 else { throw DiagnosticsError.lapack(routine: "LAPACKE_dsyevd", info: info) }
        // Eigenvalues ascend: mode m is column P − 1 − m.
        return result(modes: min(modeCount, P), totalVariance: total, cellCount: cellCount, validCells: validCells,
                      weights: weights, eigenvalue: { eig[P - 1 - $0] }, component: { j, mode in cov[j * P + P - 1 - mode] })
    }

    /// The EOFs of the `modes` leading eigenpairs of the covariance of √w-weighted anomalies:
    /// `eigenvalue(m)` and `component(j, m)`, the unit eigenvector's value at valid cell j.
    /// Patterns are scaled by √λ and unweighted (K per unit amplitude), their sign chosen so the
    /// area-weighted sum is positive; NaN outside `validCells`.
    static func result(modes: Int, totalVariance total: Double, cellCount: Int, validCells: [Int], weights: [Double],
                       eigenvalue: (Int) -> Double, component: (Int, Int) -> Double) -> EOFResult {
        var values = [Double](), patterns = [[Double]]()
        for mode in 0..<modes {
            let lambda = max(eigenvalue(mode), 0)
            var p = [Double](repeating: .nan, count: cellCount)
            var wsum = 0.0
            for (j, c) in validCells.enumerated() {
                p[c] = component(j, mode) * lambda.squareRoot() / weights[c].squareRoot()
                wsum += weights[c] * p[c]
            }
            if wsum < 0 { for c in validCells { p[c] = -p[c] } }
            values.append(lambda); patterns.append(p)
        }
        return EOFResult(varianceFractions: values.map { $0 / total }, eigenvalues: values, totalVariance: total, patterns: patterns)
    }

    /// |area-weighted uncentred pattern correlation| of mode `mode` of two analyses
    /// (sign-independent, as EOF signs are arbitrary).
    public static func patternCorrelation(_ a: EOFResult, _ b: EOFResult, mode: Int, weights: [Double]) -> Double {
        guard mode < a.patterns.count, mode < b.patterns.count else { return .nan }
        return abs(Statistics.patternCorrelation(a.patterns[mode], b.patterns[mode], weights: weights, centered: false))
    }
}

/// Grid-point autocorrelation of internal-variability anomalies.
public enum Autocorrelation {
    /// Lag-k autocorrelation of every cell for each lag in `lags` (time steps: months, or
    /// years for annual fields), pooled over
    /// members: r_k = Σ_m Σ_t a'_{m,t} a'_{m,t+k} / Σ_m Σ_t a'²_{m,t}, a' the internal anomaly
    /// (see `InternalAnomalies`) minus its per-member time mean. Returns one map per lag,
    /// count `cellCount`, NaN at cells with missing values.
    public static func maps(_ fields: EnsembleFields, lags: [Int] = [1, 12]) -> [[Double]] {
        let anomalies = InternalAnomalies(fields)
        let n = fields.cellCount, T = fields.timeCount
        var num = [[Double]](repeating: [Double](repeating: 0, count: n), count: lags.count)
        var den = [Double](repeating: 0, count: n)
        var series = [Double](repeating: 0, count: T * n)
        var buf = [Double](repeating: 0, count: n)
        for m in 0..<fields.memberCount {
            var mean = [Double](repeating: 0, count: n)
            for t in 0..<T {
                anomalies.fill(member: m, time: t, into: &buf)
                for c in 0..<n { series[t * n + c] = buf[c]; mean[c] += buf[c] }
            }
            for c in 0..<n { mean[c] /= Double(T) }
            for i in series.indices { series[i] -= mean[i % n] }
            for i in series.indices { den[i % n] += series[i] * series[i] }
            for (li, k) in lags.enumerated() where k < T {
                for t in 0..<(T - k) { for c in 0..<n { num[li][c] += series[t * n + c] * series[(t + k) * n + c] } }
            }
        }
        return num.map { nm in (0..<n).map { den[$0] > 0 && den[$0].isFinite ? nm[$0] / den[$0] : .nan } }
    }
}
