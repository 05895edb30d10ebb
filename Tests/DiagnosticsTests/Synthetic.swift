import Foundation
import Climate
import RandomStreams
@testable import Diagnostics

/// Small synthetic ensembles for the tests (fixed seeds, RandomStream substream per member).
enum Synthetic {
    /// A climate-like field: zonal mean state + seasonal cycle + trend common to all
    /// members, plus per member an ENSO-like damped oscillator (period 4 years) on an
    /// equatorial-Pacific pattern and spatially smoothed AR(1) weather noise (φ = 0.6).
    static func climate(grid: Grid, members: Int, startYear: Int = 1950, years: Int, seed: UInt64,
                        noiseScale: Float = 1, name: String = "synthetic", memberOffset: Int = 0) throws -> EnsembleFields {
        let T = years * 12, n = grid.cellCount, nlon = grid.longitudeCount
        var values = [Float](repeating: 0, count: members * T * n)
        let pattern: [Float] = (0..<n).map { c in
            let lat = grid.latitudes[c / nlon], lon = grid.longitudes[c % nlon]
            return Float(exp(-pow(lat / 12, 2)) * exp(-pow((lon - 215) / 45, 2)))
        }
        let root = RandomStream(seed: seed)
        let r = 0.97, w = 2 * Double.pi / 48
        for m in 0..<members {
            var rng = root.substream(UInt64(m + memberOffset))
            var e1 = 0.0, e2 = 0.0
            var noise = [Float](repeating: 0, count: n)
            var fresh = [Float](repeating: 0, count: n)
            for t in 0..<T {
                let e = 2 * r * cos(w) * e1 - r * r * e2 + 0.25 * rng.gaussian()
                e2 = e1; e1 = e
                rng.fillGaussian(&fresh)
                // Smooth the innovations along longitude (periodic) to correlate neighbours.
                for c in 0..<n {
                    let j = c / nlon, i = c % nlon
                    let s = fresh[c] + 0.5 * (fresh[j * nlon + (i + 1) % nlon] + fresh[j * nlon + (i + nlon - 1) % nlon])
                    noise[c] = 0.6 * noise[c] + 0.5 * s
                }
                let month = t % 12
                for c in 0..<n {
                    let lat = grid.latitudes[c / nlon]
                    let mean = 288 - 30 * pow(sin(lat * .pi / 180), 2)
                        + 8 * sin(lat * .pi / 180) * cos(2 * .pi * Double(month) / 12) + 0.01 * Double(t) / 12
                    values[(m * T + t) * n + c] = Float(mean) + Float(e) * pattern[c] + noiseScale * noise[c]
                }
            }
        }
        return try EnsembleFields(values: values, memberCount: members, timeCount: T, grid: grid,
                                  monthsOfYear: (0..<T).map { $0 % 12 + 1 }, years: (0..<T).map { startYear + $0 / 12 },
                                  name: name)
    }

    /// Independent N(0, σ²) values at every member, month and cell.
    static func whiteNoise(grid: Grid, members: Int, months T: Int, sigma: Float, seed: UInt64,
                           name: String) throws -> EnsembleFields {
        let root = RandomStream(seed: seed)
        var values = [Float]()
        values.reserveCapacity(members * T * grid.cellCount)
        for m in 0..<members {
            var rng = root.substream(UInt64(m))
            var block = [Float](repeating: 0, count: T * grid.cellCount)
            rng.fillGaussian(&block, standardDeviation: sigma)
            values.append(contentsOf: block)
        }
        return try EnsembleFields(values: values, memberCount: members, timeCount: T, grid: grid,
                                  monthsOfYear: (0..<T).map { $0 % 12 + 1 }, years: (0..<T).map { 2000 + $0 / 12 }, name: name)
    }

    /// Effective number of independent equally informative samples for area-weighted means
    /// of `perField` i.i.d. fields of weights `w`: (Σw)²/Σw² per field.
    static func effectiveSampleCount(weights w: [Double], fields: Int) -> Double {
        let s = w.reduce(0, +), s2 = w.reduce(0) { $0 + $1 * $1 }
        return Double(fields) * s * s / s2
    }
}
