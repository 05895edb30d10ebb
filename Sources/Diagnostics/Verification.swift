import Foundation

/// Rank (Talagrand) histogram of observations within an ensemble of m members.
public struct RankHistogram: Codable, Sendable, Equatable {
    /// Counts of ranks 0…m (rank = number of members below the observation; ties split in half, rounded down).
    public var counts: [Int]
    /// Pearson χ² = Σ (O_i − E)²/E against the flat expectation E = total/(m+1).
    public var chiSquare: Double
    /// Degrees of freedom m.
    public var degreesOfFreedom: Int
    /// P(χ²_m ≥ chiSquare), valid only for independent samples (grid points and months are
    /// correlated, so for full fields this is a lower bound on significance; use
    /// `reducedChiSquare` to compare ensembles).
    public var pValue: Double
    /// χ²/m, equal to the Candille–Talagrand (2005) δ: ≈ 1 for a flat histogram of
    /// independent samples, ≫ 1 for a U- or dome-shaped one.
    public var reducedChiSquare: Double

    /// Builds the statistics from raw counts.
    public init(counts: [Int]) {
        self.counts = counts
        let total = Double(counts.reduce(0, +)), bins = Double(counts.count)
        let e = total / bins
        let chi2 = e > 0 ? counts.reduce(0.0) { $0 + (Double($1) - e) * (Double($1) - e) / e } : .nan
        chiSquare = chi2
        degreesOfFreedom = counts.count - 1
        pValue = degreesOfFreedom > 0 && chi2.isFinite ? Statistics.chiSquareSurvival(chi2, dof: degreesOfFreedom) : .nan
        reducedChiSquare = degreesOfFreedom > 0 ? chi2 / Double(degreesOfFreedom) : .nan
    }
}

/// Probabilistic scores of an ensemble against observations (each observation member in
/// turn), area-weighted over cells and averaged over months and observation members.
public struct VerificationScores: Codable, Sendable, Equatable {
    /// Fair CRPS (Ferro 2014): mean|x_i − y| − Σ_{i,j}|x_i − x_j| / (2m(m−1)). Field unit (K).
    public var crpsFair: Double
    /// Standard ensemble CRPS: mean|x_i − y| − Σ_{i,j}|x_i − x_j| / (2m²). Field unit (K).
    public var crpsStandard: Double
    /// Rank histogram over every (observation, month, cell).
    public var rankHistogram: RankHistogram
    /// √(mean ensemble variance) (ddof = 1). Field unit.
    public var spread: Double
    /// √(mean (ensemble mean − observation)²). Field unit.
    public var ensembleMeanRMSE: Double
    /// √((m+1)/m) · spread / ensembleMeanRMSE (Fortin et al. 2014); 1 for a reliable ensemble.
    public var spreadSkillRatio: Double
    /// Ensemble size m.
    public var memberCount: Int
    /// Number of (observation, month, cell) samples scored.
    public var sampleCount: Int
}

/// Scores of an ensemble measured against another (reference) ensemble.
public struct EnsembleComparison: Codable, Sendable, Equatable {
    /// Σ_t Σ_c w_c s_gen(t,c) / Σ_t Σ_c w_c s_ref(t,c), s the ensemble standard deviation (ddof 1).
    public var spreadRatio: Double
    /// Area-weighted RMSE over cells and months of ensemble mean minus reference ensemble mean.
    public var ensembleMeanRMSE: Double
    /// What `ensembleMeanRMSE` would be from sampling alone: √(mean(s²_gen/K_gen + s²_ref/K_ref)).
    public var ensembleMeanRMSEExpected: Double
    /// Area-weighted mean of (ensemble mean − reference ensemble mean).
    public var ensembleMeanBias: Double
    /// Per-cell ratio of time-mean ensemble standard deviations (count cellCount); not in JSON.
    public var spreadRatioMap: [Double]

    enum CodingKeys: String, CodingKey { case spreadRatio, ensembleMeanRMSE, ensembleMeanRMSEExpected, ensembleMeanBias }

    public init(spreadRatio: Double, ensembleMeanRMSE: Double, ensembleMeanRMSEExpected: Double,
                ensembleMeanBias: Double, spreadRatioMap: [Double]) {
        self.spreadRatio = spreadRatio; self.ensembleMeanRMSE = ensembleMeanRMSE
        self.ensembleMeanRMSEExpected = ensembleMeanRMSEExpected; self.ensembleMeanBias = ensembleMeanBias
        self.spreadRatioMap = spreadRatioMap
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        spreadRatio = try c.decode(Double.self, forKey: .spreadRatio)
        ensembleMeanRMSE = try c.decode(Double.self, forKey: .ensembleMeanRMSE)
        ensembleMeanRMSEExpected = try c.decode(Double.self, forKey: .ensembleMeanRMSEExpected)
        ensembleMeanBias = try c.decode(Double.self, forKey: .ensembleMeanBias)
        spreadRatioMap = []
    }
}

/// Verification of ensembles against observations and reference ensembles.
public enum Verification {
    /// Fair and standard CRPS of one ensemble `x` (any order) for observation `y`.
    public static func crps(ensemble x: [Double], observation y: Double) -> (fair: Double, standard: Double) {
        let s = x.sorted(), m = Double(x.count)
        var pairHalf = 0.0            // Σ_{i<j} (x_(j) − x_(i)) = Σ_i x_(i)(2i − m + 1)
        for (i, v) in s.enumerated() { pairHalf += v * (2 * Double(i) - m + 1) }
        let absErr = x.reduce(0) { $0 + abs($1 - y) } / m
        return (absErr - pairHalf / (m * (m - 1)), absErr - pairHalf / (m * m))
    }

    /// Scores `ensemble` (m ≥ 2 members) against every member of `observations` at every
    /// `timeStride`-th month and every cell where all values are finite, weighting cells
    /// by area. Both must share grid and time axis.
    public static func score(ensemble: EnsembleFields, observations: EnsembleFields, timeStride: Int = 1) throws -> VerificationScores {
        try ensemble.checkCompatible(with: observations)
        let m = ensemble.memberCount
        guard m >= 2 else { throw DiagnosticsError.insufficientData("\(ensemble.name): scores need at least 2 members") }
        guard timeStride >= 1 else { throw DiagnosticsError.invalidArgument("timeStride must be ≥ 1") }
        let n = ensemble.cellCount, w = ensemble.grid.areaWeights
        var counts = [Int](repeating: 0, count: m + 1)
        var sumW = 0.0, fair = 0.0, standard = 0.0, variance = 0.0, sqErr = 0.0, samples = 0
        var x = [Double](repeating: 0, count: m), sorted = x
        ensemble.values.withUnsafeBufferPointer { ev in observations.values.withUnsafeBufferPointer { ov in
            for t in stride(from: 0, to: ensemble.timeCount, by: timeStride) {
                for c in 0..<n {
                    var ok = true
                    for i in 0..<m { let v = ev[ensemble.offset(member: i, time: t) + c]; x[i] = Double(v); if !v.isFinite { ok = false } }
                    guard ok else { continue }
                    for i in 0..<m { sorted[i] = x[i] }
                    sorted.sort()
                    let md = Double(m)
                    var pairHalf = 0.0, mean = 0.0
                    for i in 0..<m { pairHalf += sorted[i] * (2 * Double(i) - md + 1); mean += sorted[i] }
                    mean /= md
                    var ss = 0.0
                    for i in 0..<m { ss += (sorted[i] - mean) * (sorted[i] - mean) }
                    for o in 0..<observations.memberCount {
                        let yv = ov[observations.offset(member: o, time: t) + c]
                        guard yv.isFinite else { continue }
                        let y = Double(yv)
                        var absErr = 0.0, below = 0, equal = 0
                        for i in 0..<m {
                            absErr += abs(sorted[i] - y)
                            if sorted[i] < y { below += 1 } else if sorted[i] == y { equal += 1 }
                        }
                        absErr /= md
                        fair += w[c] * (absErr - pairHalf / (md * (md - 1)))
                        standard += w[c] * (absErr - pairHalf / (md * md))
                        variance += w[c] * ss / (md - 1)
                        sqErr += w[c] * (mean - y) * (mean - y)
                        sumW += w[c]
                        counts[below + equal / 2] += 1
                        samples += 1
                    }
                }
            }
        } }
        guard sumW > 0 else { throw DiagnosticsError.insufficientData("\(ensemble.name) vs \(observations.name): no valid samples to score") }
        let spread = (variance / sumW).squareRoot(), rmse = (sqErr / sumW).squareRoot()
        return VerificationScores(crpsFair: fair / sumW, crpsStandard: standard / sumW,
                                  rankHistogram: RankHistogram(counts: counts), spread: spread, ensembleMeanRMSE: rmse,
                                  spreadSkillRatio: ((Double(m) + 1) / Double(m)).squareRoot() * spread / rmse,
                                  memberCount: m, sampleCount: samples)
    }

    /// Ensemble mean and variance (ddof = 1) at month `t`, cell `c`; nil if any member is missing.
    static func moments(_ f: EnsembleFields, _ v: UnsafeBufferPointer<Float>, _ t: Int, _ c: Int) -> (Double, Double)? {
        var s = 0.0, ss = 0.0
        for i in 0..<f.memberCount {
            let x = v[f.offset(member: i, time: t) + c]
            guard x.isFinite else { return nil }
            s += Double(x); ss += Double(x) * Double(x)
        }
        let k = Double(f.memberCount), mean = s / k
        return (mean, max(0, (ss - k * mean * mean) / (k - 1)))
    }

    /// Ensemble spread: area-weighted mean over grid points and months of the ensemble
    /// standard deviation (ddof = 1), field unit. Needs at least 2 members.
    public static func meanSpread(_ ensemble: EnsembleFields) throws -> Double {
        guard ensemble.memberCount >= 2 else {
            throw DiagnosticsError.insufficientData("spread needs at least 2 members in \(ensemble.name)")
        }
        let w = ensemble.grid.areaWeights
        var sum = 0.0, sumW = 0.0
        ensemble.values.withUnsafeBufferPointer { v in
            for t in 0..<ensemble.timeCount { for c in 0..<ensemble.cellCount {
                guard let m = moments(ensemble, v, t, c) else { continue }
                sum += w[c] * m.1.squareRoot(); sumW += w[c]
            } }
        }
        guard sumW > 0 else { throw DiagnosticsError.insufficientData("\(ensemble.name): no valid cells") }
        return sum / sumW
    }

    /// Spread ratio, its per-cell map and ensemble-mean errors of `ensemble` against
    /// `reference` (both ≥ 2 members, same grid and time axis).
    public static func compare(_ ensemble: EnsembleFields, to reference: EnsembleFields) throws -> EnsembleComparison {
        try ensemble.checkCompatible(with: reference)
        guard ensemble.memberCount >= 2, reference.memberCount >= 2 else {
            throw DiagnosticsError.insufficientData("spread ratio needs at least 2 members in \(ensemble.name) and \(reference.name)")
        }
        let n = ensemble.cellCount, w = ensemble.grid.areaWeights, T = ensemble.timeCount
        var sdG = [Double](repeating: 0, count: n), sdR = sdG, cnt = sdG
        var sumG = 0.0, sumR = 0.0, sumW = 0.0, sq = 0.0, expected = 0.0, bias = 0.0
        ensemble.values.withUnsafeBufferPointer { gv in reference.values.withUnsafeBufferPointer { rv in
            for t in 0..<T { for c in 0..<n {
                guard let g = moments(ensemble, gv, t, c), let r = moments(reference, rv, t, c) else { continue }
                let sg = g.1.squareRoot(), sr = r.1.squareRoot()
                sdG[c] += sg; sdR[c] += sr; cnt[c] += 1
                sumG += w[c] * sg; sumR += w[c] * sr; sumW += w[c]
                sq += w[c] * (g.0 - r.0) * (g.0 - r.0); bias += w[c] * (g.0 - r.0)
                expected += w[c] * (g.1 / Double(ensemble.memberCount) + r.1 / Double(reference.memberCount))
            } }
        } }
        guard sumW > 0 else { throw DiagnosticsError.insufficientData("\(ensemble.name) vs \(reference.name): no valid cells") }
        let map = (0..<n).map { cnt[$0] > 0 && sdR[$0] > 0 ? sdG[$0] / sdR[$0] : .nan }
        return EnsembleComparison(spreadRatio: sumG / sumR, ensembleMeanRMSE: (sq / sumW).squareRoot(),
                                  ensembleMeanRMSEExpected: (expected / sumW).squareRoot(),
                                  ensembleMeanBias: bias / sumW, spreadRatioMap: map)
    }
}
