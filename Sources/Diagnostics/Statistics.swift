import Foundation

/// Small NaN-aware statistics used by the diagnostics. All accumulate in Double.
public enum Statistics {
    /// Mean of the finite values; NaN when there are none.
    public static func mean(_ x: [Double]) -> Double {
        var s = 0.0, n = 0
        for v in x where v.isFinite { s += v; n += 1 }
        return n > 0 ? s / Double(n) : .nan
    }

    /// Variance of the finite values with `ddof` delta degrees of freedom (1 = unbiased).
    public static func variance(_ x: [Double], ddof: Int = 1) -> Double {
        let m = mean(x)
        var s = 0.0, n = 0
        for v in x where v.isFinite { s += (v - m) * (v - m); n += 1 }
        return n > ddof ? s / Double(n - ddof) : .nan
    }

    /// Standard deviation, `sqrt(variance(x, ddof))`.
    public static func standardDeviation(_ x: [Double], ddof: Int = 1) -> Double { variance(x, ddof: ddof).squareRoot() }

    /// Sample skewness g₁ = m₃ / m₂^{3/2} with central moments mₖ = mean((x − x̄)^k)
    /// (the biased, moment estimator; scipy.stats.skew with bias=True).
    public static func skewness(_ x: [Double]) -> Double {
        let m = mean(x)
        var m2 = 0.0, m3 = 0.0, n = 0
        for v in x where v.isFinite { let d = v - m; m2 += d * d; m3 += d * d * d; n += 1 }
        guard n > 2, m2 > 0 else { return .nan }
        m2 /= Double(n); m3 /= Double(n)
        return m3 / pow(m2, 1.5)
    }

    /// Pearson correlation over pairs where both values are finite; NaN if undefined.
    public static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "correlation: arrays differ in length")
        var sa = 0.0, sb = 0.0, n = 0
        for i in a.indices where a[i].isFinite && b[i].isFinite { sa += a[i]; sb += b[i]; n += 1 }
        guard n > 1 else { return .nan }
        let ma = sa / Double(n), mb = sb / Double(n)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices where a[i].isFinite && b[i].isFinite {
            let da = a[i] - ma, db = b[i] - mb
            sab += da * db; saa += da * da; sbb += db * db
        }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : .nan
    }

    /// Weighted pattern correlation Σw(a−ā)(b−b̄)/√(Σw(a−ā)²·Σw(b−b̄)²) over cells where both
    /// are finite; `centered: false` uses a and b as they are (for EOFs). NaN if undefined.
    public static func patternCorrelation(_ a: [Double], _ b: [Double], weights: [Double], centered: Bool = true) -> Double {
        var sw = 0.0, sa = 0.0, sb = 0.0
        for i in a.indices where a[i].isFinite && b[i].isFinite { sw += weights[i]; sa += weights[i] * a[i]; sb += weights[i] * b[i] }
        guard sw > 0 else { return .nan }
        let ma = centered ? sa / sw : 0, mb = centered ? sb / sw : 0
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices where a[i].isFinite && b[i].isFinite {
            let da = a[i] - ma, db = b[i] - mb
            sab += weights[i] * da * db; saa += weights[i] * da * da; sbb += weights[i] * db * db
        }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : .nan
    }

    /// Removes the least-squares line a + b·t (t = 0, 1, …) fitted to the finite values.
    public static func removeLinearTrend(_ x: inout [Double]) {
        var st = 0.0, sx = 0.0, n = 0.0
        for (t, v) in x.enumerated() where v.isFinite { st += Double(t); sx += v; n += 1 }
        guard n > 1 else { return }
        let mt = st / n, mx = sx / n
        var stt = 0.0, stx = 0.0
        for (t, v) in x.enumerated() where v.isFinite { stt += (Double(t) - mt) * (Double(t) - mt); stx += (Double(t) - mt) * (v - mx) }
        let b = stt > 0 ? stx / stt : 0
        for t in x.indices { x[t] -= mx + b * (Double(t) - mt) }
    }

    /// Least-squares line y = a + b·x: the slope b (unit of y per unit of x) and its standard
    /// error √(Σr²/(n−2)/Σ(x−x̄)²) from the residuals r. Nil with fewer than 3 points or
    /// constant x. Non-finite values are not skipped (they make the result non-finite).
    public static func linearTrend(x: [Double], y: [Double]) -> (slope: Double, standardError: Double)? {
        let n = Double(min(x.count, y.count))
        guard n > 2 else { return nil }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        guard sxx > 0 else { return nil }
        let b = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / sxx
        let residual = zip(x, y).reduce(0) { $0 + pow($1.1 - my - b * ($1.0 - mx), 2) }
        return (b, (residual / (n - 2) / sxx).squareRoot())
    }

    /// Quantile `p` ∈ [0, 1] of the finite values by linear interpolation between order
    /// statistics (numpy's default "linear" method). NaN when empty.
    public static func quantile(_ x: [Double], _ p: Double) -> Double {
        let s = x.filter { $0.isFinite }.sorted()
        guard !s.isEmpty else { return .nan }
        let h = p * Double(s.count - 1)
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (h - Double(lo)) * (s[hi] - s[lo])
    }

    /// Regularised upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a), for a > 0, x ≥ 0.
    /// Series expansion of P for x < a + 1, Lentz continued fraction for Q otherwise.
    public static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        guard a > 0, x >= 0 else { return .nan }
        if x == 0 { return 1 }
        let logPrefactor = -x + a * log(x) - lgamma(a)
        if x < a + 1 {
            var term = 1.0 / a, sum = term, ap = a
            for _ in 0..<10_000 {
                ap += 1; term *= x / ap; sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return max(0, 1 - sum * exp(logPrefactor))
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b; if abs(d) < tiny { d = tiny }
            c = b + an / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return exp(logPrefactor) * h
    }

    /// Upper-tail probability of the χ² distribution with `dof` degrees of freedom.
    public static func chiSquareSurvival(_ chi2: Double, dof: Int) -> Double {
        regularizedGammaQ(Double(dof) / 2, chi2 / 2)
    }
}

/// Monthly climatology of series sampled at calendar months.
enum Climatology {
    /// Climatology class (1…12) of each step: the calendar month for monthly data
    /// (`stepsPerYear` 12), 1 for every step of annual data (no seasonal cycle to remove).
    static func classes(months: [Int], stepsPerYear: Int) -> [Int] {
        stepsPerYear == 1 ? [Int](repeating: 1, count: months.count) : months
    }

    /// Mean of `series[t]` by calendar month (index 0…11) over the time steps whose year is
    /// in `basePeriod` (all years when nil), pooling `memberCount` series laid out
    /// (member, time). NaN for a month without data.
    static func monthlyMeans(_ series: [Double], memberCount: Int, months: [Int], years: [Int],
                             basePeriod: ClosedRange<Int>?) -> [Double] {
        let T = months.count
        var s = [Double](repeating: 0, count: 12), n = [Double](repeating: 0, count: 12)
        for m in 0..<memberCount {
            for t in 0..<T where basePeriod?.contains(years[t]) ?? true {
                let v = series[m * T + t]
                if v.isFinite { s[months[t] - 1] += v; n[months[t] - 1] += 1 }
            }
        }
        return (0..<12).map { n[$0] > 0 ? s[$0] / n[$0] : .nan }
    }

    /// `series` (member, time) minus its pooled monthly climatology.
    static func anomalies(_ series: [Double], memberCount: Int, months: [Int], years: [Int],
                          basePeriod: ClosedRange<Int>?) -> [Double] {
        let clim = monthlyMeans(series, memberCount: memberCount, months: months, years: years, basePeriod: basePeriod)
        let T = months.count
        var out = series
        for m in 0..<memberCount { for t in 0..<T { out[m * T + t] -= clim[months[t] - 1] } }
        return out
    }
}
