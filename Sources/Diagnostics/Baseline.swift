import Foundation
import Climate
import RandomStreams
import CBLAS

/// A statistical emulator in the style of MESMER (Beusch et al. 2020): a forced component
/// plus grid-point AR(1) noise whose innovations have an EOF-truncated spatial covariance.
///
/// Fitted on a training ensemble's internal anomalies a (ensemble mean removed, see
/// `InternalAnomalies`):
/// - φ_c = pooled lag-1 autocorrelation of a at cell c (clamped to ±0.99);
/// - innovations η_t = a_t − φ a_{t−1}; their covariance is approximated by
///   Σ ≈ Σ_{k≤K} p_k p_kᵀ + D, with p_k = √λ_k u_k the leading eigenvectors of the
///   innovation covariance (unweighted, unit K) and D the diagonal that restores each
///   cell's innovation variance exactly.
/// A member is then a_0 = η_0/√(1−φ²) (stationary start), a_t = φ a_{t−1} + η_t with
/// η = Σ z_k p_k + √D ε (z, ε standard normal), added to the forced component.
/// Variance is not seasonally modulated.
public struct StatisticalBaseline: Sendable {
    public let grid: Grid
    /// Lag-1 coefficient per cell (count cellCount; NaN where the training data are missing).
    public let lag1: [Double]
    /// Stationary anomaly variance per cell, var(η)/(1−φ²) (unit², NaN where missing).
    public let variance: [Double]
    /// Cells that are finite throughout the training data.
    public let validCells: [Int]
    /// p_k at `validCells`, mode-major (modeCount × validCells.count), unit K.
    let patterns: [Double]
    /// √D at `validCells`.
    let residualStd: [Double]
    /// Number of EOFs of the innovation covariance kept.
    public let modeCount: Int
    /// Fraction of the total innovation variance carried by the kept EOFs.
    public let explainedInnovationVariance: Double

    /// Fits the noise model to the internal variability of `training` (≥ 2 members).
    public static func fit(training: EnsembleFields, modeCount: Int = 50) throws -> StatisticalBaseline {
        guard training.memberCount >= 2, training.timeCount >= 3 else {
            throw DiagnosticsError.insufficientData("\(training.name): the baseline needs ≥ 2 members and ≥ 3 months")
        }
        let anomalies = InternalAnomalies(training)
        let valid = anomalies.validCells()
        guard !valid.isEmpty else { throw DiagnosticsError.insufficientData("\(training.name): no cell is free of missing values") }
        let n = training.cellCount, T = training.timeCount, K = training.memberCount
        let phiMap = Autocorrelation.maps(training, lags: [1])[0]
        let phi = valid.map { min(max(phiMap[$0], -0.99), 0.99) }
        let P = valid.count
        // Innovation variance per valid cell (mean removed), by a direct pass.
        var prev = [Double](repeating: 0, count: n), cur = prev
        var s = [Double](repeating: 0, count: P), ss = s
        for m in 0..<K {
            anomalies.fill(member: m, time: 0, into: &prev)
            for t in 1..<T {
                anomalies.fill(member: m, time: t, into: &cur)
                for (j, c) in valid.enumerated() { let e = cur[c] - phi[j] * prev[c]; s[j] += e; ss[j] += e * e }
                swap(&prev, &cur)
            }
        }
        let N = Double(K * (T - 1))
        let innovationVar = (0..<P).map { (ss[$0] - s[$0] * s[$0] / N) / (N - 1) }
        guard innovationVar.contains(where: { $0 > 0 }), phi.allSatisfy(\.isFinite) else {
            throw DiagnosticsError.insufficientData("\(training.name): the members do not differ, so there is no internal variability to emulate; train on distinct members")
        }
        let keep = min(modeCount, P)
        var a0 = [Double](repeating: 0, count: n), a1 = a0
        let eof = try EOF.analyze(rowCount: K * (T - 1), cellCount: n, validCells: valid,
                                  weights: [Double](repeating: 1, count: n), modeCount: keep) { row, out in
            let m = row / (T - 1), t = row % (T - 1) + 1
            anomalies.fill(member: m, time: t - 1, into: &a0)
            anomalies.fill(member: m, time: t, into: &a1)
            for (j, c) in valid.enumerated() { out[j] = a1[c] - phi[j] * a0[c] }
        }
        var patterns = [Double](repeating: 0, count: keep * P)
        var explained = [Double](repeating: 0, count: P)
        for k in 0..<keep { for (j, c) in valid.enumerated() {
            let p = eof.patterns[k][c]
            patterns[k * P + j] = p; explained[j] += p * p
        } }
        let residual = (0..<P).map { max(innovationVar[$0] - explained[$0], 0).squareRoot() }
        var lag1 = [Double](repeating: .nan, count: n), variance = lag1
        for (j, c) in valid.enumerated() { lag1[c] = phi[j]; variance[c] = innovationVar[j] / (1 - phi[j] * phi[j]) }
        return StatisticalBaseline(grid: training.grid, lag1: lag1, variance: variance, validCells: valid,
                                   patterns: patterns, residualStd: residual, modeCount: keep,
                                   explainedInnovationVariance: eof.eigenvalues.reduce(0, +) / eof.totalVariance)
    }

    /// One member's fields, order (time, lat, lon), count `forced.count`: `forced` (order
    /// (time, lat, lon), field unit) plus AR(1) noise from substream `member` of
    /// `RandomStream(seed:)`. Member k is the same whatever other members are generated.
    /// NaN at cells outside `validCells`.
    public func generateMember(_ member: Int, forced: [Float], seed: UInt64) throws -> [Float] {
        let n = grid.cellCount
        guard !forced.isEmpty, forced.count % n == 0 else {
            throw DiagnosticsError.shape("forced component has \(forced.count) values, not a multiple of the \(n) grid cells")
        }
        let T = forced.count / n, P = validCells.count
        var rng = RandomStream(seed: seed).substream(UInt64(member))
        // Draw per month: modeCount amplitudes z, then P residual variates ε.
        var z = [Double](repeating: 0, count: T * modeCount)
        var eta = [Double](repeating: 0, count: T * P)
        for t in 0..<T {
            for k in 0..<modeCount { z[t * modeCount + k] = rng.gaussian() }
            for j in 0..<P { eta[t * P + j] = residualStd[j] * rng.gaussian() }
        }
        // η += Z · patterns  (T × modeCount) · (modeCount × P), one GEMM.
        if modeCount > 0 {
            z.withUnsafeBufferPointer { zp in patterns.withUnsafeBufferPointer { pp in eta.withUnsafeMutableBufferPointer { ep in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(P), Int32(modeCount),
                            1.0, zp.baseAddress, Int32(modeCount), pp.baseAddress, Int32(P), 1.0, ep.baseAddress, Int32(P))
            } } }
        }
        var out = [Float](repeating: .nan, count: forced.count)
        var a = [Double](repeating: 0, count: P)
        for t in 0..<T {
            for (j, c) in validCells.enumerated() {
                let phi = lag1[c], e = eta[t * P + j]
                a[j] = t == 0 ? e / (1 - phi * phi).squareRoot() : phi * a[j] + e
                out[t * n + c] = forced[t * n + c] + Float(a[j])
            }
        }
        return out
    }

    /// `memberCount` members, order (member, time, lat, lon), ready to be written like a
    /// generated ensemble.
    public func generate(memberCount: Int, forced: [Float], seed: UInt64) throws -> [Float] {
        var out = [Float]()
        out.reserveCapacity(memberCount * forced.count)
        for k in 0..<memberCount { out.append(contentsOf: try generateMember(k, forced: forced, seed: seed)) }
        return out
    }

    /// `memberCount` members as an `EnsembleFields` on the time axis of `template` (whose
    /// grid must match), e.g. to score the baseline with `EnsembleEvaluation.compare`.
    public func ensemble(memberCount: Int, forced: [Float], seed: UInt64, timeLike template: EnsembleFields,
                         name: String = "baseline") throws -> EnsembleFields {
        guard template.grid.matches(grid), forced.count == template.timeCount * grid.cellCount else {
            throw DiagnosticsError.shape("baseline: forced component (\(forced.count) values) or grid does not match \(template.name) (\(template.timeCount) months × \(template.grid.summary))")
        }
        return try EnsembleFields(values: try generate(memberCount: memberCount, forced: forced, seed: seed),
                                  memberCount: memberCount, timeCount: template.timeCount, grid: grid,
                                  monthsOfYear: template.monthsOfYear, years: template.years,
                                  stepsPerYear: template.stepsPerYear, name: name)
    }

    /// Forced component as the ensemble mean of `fields`, order (time, lat, lon).
    public static func ensembleMean(of fields: EnsembleFields) -> [Float] {
        let n = fields.timeCount * fields.cellCount
        var s = [Double](repeating: 0, count: n)
        for m in 0..<fields.memberCount { for i in 0..<n { s[i] += Double(fields.values[m * n + i]) } }
        return s.map { Float($0 / Double(fields.memberCount)) }
    }

    /// Forced component estimated from a single member (e.g. the conditioning member, its
    /// first member is used): per cell, its monthly climatology plus a centred running mean
    /// of its deseasonalised anomalies over `windowMonths` months (the window shrinks at the
    /// ends of the record). Order (time, lat, lon). Volcanic dips shorter than the window
    /// are smoothed out; prefer `ensembleMean(of:)` when a forced ensemble mean is available.
    public static func smoothedForcedComponent(of member: EnsembleFields, windowMonths: Int = 121) -> [Float] {
        let n = member.cellCount, T = member.timeCount
        let clim = member.cellClimatology(basePeriod: nil), months = member.climatologyMonths
        var out = [Float](repeating: .nan, count: T * n)
        let half = max(windowMonths, 1) / 2
        var cum = [Double](repeating: 0, count: T + 1)
        for c in 0..<n {
            for t in 0..<T {
                cum[t + 1] = cum[t] + Double(member.values[t * n + c]) - clim[(months[t] - 1) * n + c]
            }
            for t in 0..<T {
                let lo = max(0, t - half), hi = min(T - 1, t + half)
                out[t * n + c] = Float(clim[(months[t] - 1) * n + c] + (cum[hi + 1] - cum[lo]) / Double(hi - lo + 1))
            }
        }
        return out
    }
}
