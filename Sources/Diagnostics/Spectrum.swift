import Foundation

/// A one-sided power spectral density estimate.
public struct PowerSpectrum: Codable, Sendable, Equatable {
    /// Frequencies, cycles per year, from 0 to the Nyquist frequency (6 for monthly, 0.5 for
    /// annual data).
    public var frequencies: [Double]
    /// Power spectral density, (unit of the series)² · year, one per frequency; the
    /// integral over frequency equals the variance of the (segment-demeaned) series.
    public var density: [Double]
    /// Samples per segment (time steps: months, or years for annual data).
    public var segmentLength: Int
    /// Number of segments averaged (over all series).
    public var segmentCount: Int
}

/// Spectral estimates of regularly sampled series.
public enum Spectral {
    /// Welch's estimate: segments of `segmentLength` samples overlapping by half, each
    /// demeaned and tapered with a periodic Hann window w[n] = ½ − ½cos(2πn/L), then
    /// P(f) = c·|Σ w[n]x[n]e^{−2πifn/fs}|² / (fs·Σw²) with c = 2 except at 0 and Nyquist.
    /// Segments start at 0, L/2, L, … (trailing samples that do not fill a segment are
    /// dropped, as in scipy.signal.welch). The estimates of all `series` are averaged.
    ///
    /// - Parameters:
    ///   - series: one or more series (e.g. one per member), NaN-free, each ≥ `segmentLength` long.
    ///   - samplesPerYear: sampling rate fs (12 for monthly data, 1 for annual data).
    ///   - segmentLength: L; the series length when it is shorter than L.
    public static func welch(_ series: [[Double]], samplesPerYear: Double = 12, segmentLength: Int) throws -> PowerSpectrum {
        guard let shortest = series.map(\.count).min(), shortest >= 4 else {
            throw DiagnosticsError.insufficientData("spectrum needs at least 4 samples per series")
        }
        let L = min(segmentLength, shortest)
        let step = L - L / 2
        let window = (0..<L).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(L)) }
        let windowPower = window.reduce(0) { $0 + $1 * $1 }
        let nf = L / 2 + 1
        // Twiddle table for a direct DFT (segments are a few hundred samples).
        let cosT = (0..<L).map { cos(2 * Double.pi * Double($0) / Double(L)) }
        let sinT = (0..<L).map { sin(2 * Double.pi * Double($0) / Double(L)) }
        var acc = [Double](repeating: 0, count: nf)
        var segments = 0
        var seg = [Double](repeating: 0, count: L)
        for x in series {
            guard x.allSatisfy({ $0.isFinite }) else {
                throw DiagnosticsError.insufficientData("spectrum input contains missing values")
            }
            var start = 0
            while start + L <= x.count {
                let m = x[start..<(start + L)].reduce(0, +) / Double(L)
                for n in 0..<L { seg[n] = (x[start + n] - m) * window[n] }
                for k in 0..<nf {
                    var re = 0.0, im = 0.0, idx = 0
                    for n in 0..<L {
                        re += seg[n] * cosT[idx]; im -= seg[n] * sinT[idx]
                        idx += k; if idx >= L { idx -= L }
                    }
                    acc[k] += re * re + im * im
                }
                segments += 1
                start += step
            }
        }
        let scale = 1 / (samplesPerYear * windowPower * Double(segments))
        var density = acc.map { $0 * scale }
        for k in 1..<nf where !(L % 2 == 0 && k == nf - 1) { density[k] *= 2 }
        let freqs = (0..<nf).map { Double($0) * samplesPerYear / Double(L) }
        return PowerSpectrum(frequencies: freqs, density: density, segmentLength: L, segmentCount: segments)
    }

    /// Period (years) of the largest spectral density among frequencies whose period lies
    /// in `band` (years), refined by fitting a parabola through the peak bin and its two
    /// neighbours (in frequency). NaN when no frequency falls in the band.
    public static func peakPeriod(_ spectrum: PowerSpectrum, band: ClosedRange<Double> = 1...10) -> Double {
        let f = spectrum.frequencies, p = spectrum.density
        var best = -1
        for k in 1..<f.count where band.contains(1 / f[k]) && (best < 0 || p[k] > p[best]) { best = k }
        guard best >= 0 else { return .nan }
        var fPeak = f[best]
        if best > 0, best + 1 < f.count {
            let a = p[best - 1], b = p[best], c = p[best + 1]
            let denom = a - 2 * b + c
            if denom < 0 {
                let delta = 0.5 * (a - c) / denom
                fPeak = f[best] + delta * (f[best + 1] - f[best])
            }
        }
        return 1 / fPeak
    }
}
