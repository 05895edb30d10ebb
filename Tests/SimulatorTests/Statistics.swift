import Climate
import Foundation

// Statistics helpers for the simulator tests (to be folded into Diagnostics later).
// Fields are (time, lat, lon) Float arrays; every reduction accumulates in Double.

enum Stats {
    static func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(max(x.count, 1)) }

    static func variance(_ x: [Double]) -> Double {
        let m = mean(x)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(x.count - 1, 1))
    }

    static func standardDeviation(_ x: [Double]) -> Double { variance(x).squareRoot() }

    static func skewness(_ x: [Double]) -> Double {
        let m = mean(x), s = standardDeviation(x)
        return x.reduce(0) { $0 + pow(($1 - m) / s, 3) } / Double(x.count)
    }

    static func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let mx = mean(x), my = mean(y)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Lag-`lag` autocorrelation (mean removed, biased normalisation by the lag-0 sum).
    static func autocorrelation(_ x: [Double], lag: Int = 1) -> Double {
        let m = mean(x)
        var num = 0.0, den = 0.0
        for t in x.indices {
            den += (x[t] - m) * (x[t] - m)
            if t >= lag { num += (x[t] - m) * (x[t - lag] - m) }
        }
        return num / den
    }

    /// Removes the mean of each calendar month (series starting in January).
    static func removeMonthlyClimatology(_ x: [Double]) -> [Double] {
        var sum = [Double](repeating: 0, count: 12), cnt = sum
        for t in x.indices { sum[t % 12] += x[t]; cnt[t % 12] += 1 }
        return x.indices.map { x[$0] - sum[$0 % 12] / cnt[$0 % 12] }
    }

    /// Periodogram |Σ x_t e^{−2πift/N}|² / N for f = 1...N/2 (index f−1), mean removed.
    static func periodogram(_ x: [Double]) -> [Double] {
        let n = x.count, m = mean(x)
        let y = x.map { $0 - m }
        return (1...(n / 2)).map { f in
            var re = 0.0, im = 0.0
            let w = 2 * Double.pi * Double(f) / Double(n)
            // Rotation recurrence for cos/sin(w t), re-seeded every 64 steps for accuracy.
            var c = 1.0, s = 0.0
            let cw = cos(w), sw = sin(w)
            for t in 0..<n {
                if t % 64 == 0 { c = cos(w * Double(t)); s = sin(w * Double(t)) }
                re += y[t] * c
                im -= y[t] * s
                (c, s) = (c * cw - s * sw, s * cw + c * sw)
            }
            return (re * re + im * im) / Double(n)
        }
    }

    /// Area weights (overlap areas) of the cells inside a lat/lon box, normalised to 1.
    static func boxWeights(_ grid: Grid, latitudes: ClosedRange<Double>, longitudes: ClosedRange<Double>) -> [(Int, Double)] {
        var out = [(Int, Double)]()
        for j in 0..<grid.latitudeCount {
            let lb = grid.latitudeBounds[j]
            let lo = max(lb[0], latitudes.lowerBound), hi = min(lb[1], latitudes.upperBound)
            guard hi > lo else { continue }
            let wl = sin(hi * .pi / 180) - sin(lo * .pi / 180)
            for i in 0..<grid.longitudeCount {
                let xb = grid.longitudeBounds[i]
                let xlo = max(xb[0], longitudes.lowerBound), xhi = min(xb[1], longitudes.upperBound)
                if xhi > xlo { out.append((j * grid.longitudeCount + i, wl * (xhi - xlo))) }
            }
        }
        let s = out.reduce(0) { $0 + $1.1 }
        return out.map { ($0.0, $0.1 / s) }
    }

    /// Weighted-mean time series of `field` (time, cells) over (cell, weight) pairs.
    static func series(_ field: [Float], cells: Int, weights: [(Int, Double)]) -> [Double] {
        let nt = field.count / cells
        var out = [Double](repeating: 0, count: nt)
        for t in 0..<nt {
            var s = 0.0
            for (c, w) in weights { s += w * Double(field[t * cells + c]) }
            out[t] = s
        }
        return out
    }

    static func globalMean(_ field: [Float], grid: Grid) -> [Double] {
        series(field, cells: grid.cellCount, weights: Array(grid.areaWeights.enumerated()))
    }

    /// Niño3.4 index: 5°S–5°N, 170°W–120°W area mean, monthly climatology removed, K.
    static func nino34(_ field: [Float], grid: Grid) -> [Double] {
        removeMonthlyClimatology(series(field, cells: grid.cellCount,
                                        weights: boxWeights(grid, latitudes: -5...5, longitudes: 190...240)))
    }

    /// Area-weighted mean of `values` over the cells where `include` holds.
    static func areaMean(_ values: [Double], grid: Grid, where include: (Int) -> Bool) -> Double {
        let w = grid.areaWeights
        var s = 0.0, sw = 0.0
        for c in values.indices where include(c) { s += w[c] * values[c]; sw += w[c] }
        return s / sw
    }
}

/// Per-cell anomaly statistics of an ensemble: anomalies are deviations from the sample
/// ensemble mean, which removes the seasonal cycle and the forced response; the variance
/// is corrected by N/(N−1) for the mean's own sampling noise, so it is unbiased.
struct AnomalyMoments {
    let standardDeviation: [Double]
    let lag1: [Double]

    init(members: [[Float]], cells: Int) {
        let n = members.count, nt = members[0].count / cells
        var sxx = [Double](repeating: 0, count: cells), sxl = sxx, sll = sxx
        var prev = [Double](repeating: 0, count: cells * n)
        for t in 0..<nt {
            for c in 0..<cells {
                var m = 0.0
                for k in 0..<n { m += Double(members[k][t * cells + c]) }
                m /= Double(n)
                for k in 0..<n {
                    let a = Double(members[k][t * cells + c]) - m
                    sxx[c] += a * a
                    if t > 0 { sxl[c] += a * prev[k * cells + c]; sll[c] += prev[k * cells + c] * prev[k * cells + c] }
                    prev[k * cells + c] = a
                }
            }
        }
        let corr = Double(n) / Double(n - 1)
        standardDeviation = sxx.map { ($0 / Double(nt * n) * corr).squareRoot() }
        lag1 = (0..<cells).map { sxl[$0] / (sxx[$0] * sll[$0]).squareRoot() }
    }
}
