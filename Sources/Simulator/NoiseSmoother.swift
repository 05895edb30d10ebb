import Climate
import Foundation

/// Turns white noise on a global lat–lon grid into spatially correlated noise with unit
/// variance at every point, by separable Gaussian smoothing:
///
/// 1. along each latitude row j (periodic in longitude) with a kernel of width
///    s / cos φ_j degrees of longitude (so the width is s on the sphere),
/// 2. along latitude with a kernel of width s degrees, truncated at the poles.
///
/// Each kernel is normalised so that its squared weights sum to 1; because the rows of
/// white noise are independent, the output then has exactly unit variance everywhere.
/// With s = ℓ/√2 the correlation between nearby points is ≈ exp(−d²/2ℓ²).
/// Kernels are cut at ±3 s (or span the whole circle near the poles).
public struct NoiseSmoother: Sendable {
    /// Per row: offsets (in cells, may be negative) and weights of the longitude kernel.
    let longitudeOffsets: [[Int]]
    let longitudeWeights: [[Float]]
    /// Per output row: first source row and weights of the latitude kernel.
    let latitudeStart: [Int]
    let latitudeWeights: [[Float]]
    public let latitudeCount: Int, longitudeCount: Int

    /// - Parameters:
    ///   - grid: a global grid, uniform in longitude.
    ///   - lengthScale: correlation length ℓ in km (correlation exp(−d²/2ℓ²)).
    public init(grid: Grid, lengthScale: Double) throws {
        let nlat = grid.latitudeCount, nlon = grid.longitudeCount
        guard grid.isGlobalInLongitude, nlon >= 2 else {
            throw SimulatorError.invalidConfiguration("the grid must cover the full longitude circle (got \(grid.summary))")
        }
        let dlon = 360 / Double(nlon)
        for i in 0..<nlon where abs(grid.longitudeBounds[i][1] - grid.longitudeBounds[i][0] - dlon) > 1e-6 * dlon {
            throw SimulatorError.invalidConfiguration("longitudes must be evenly spaced (cell \(i) of \(grid.summary))")
        }
        guard lengthScale > 0 else { throw SimulatorError.invalidConfiguration("weather length scale must be positive") }
        latitudeCount = nlat
        longitudeCount = nlon
        let kmPerDegree = 6371.0 * .pi / 180
        let s = lengthScale / 2.0.squareRoot() / kmPerDegree   // kernel width, degrees of arc

        var offs = [[Int]](), wts = [[Float]]()
        for j in 0..<nlat {
            let c = max(cos(grid.latitudes[j] * .pi / 180), 1e-3)
            let sl = s / c                                      // degrees of longitude
            let half = Int((3 * sl / dlon).rounded(.up))
            var o = [Int](), w = [Double]()
            if 2 * half + 1 >= nlon {
                // Whole circle: wrapped Gaussian over every distinct offset.
                for d in (-(nlon / 2))..<(nlon - nlon / 2) {
                    var v = 0.0
                    for m in -4...4 { let x = Double(d) * dlon + 360 * Double(m); v += exp(-x * x / (2 * sl * sl)) }
                    o.append(d); w.append(v)
                }
            } else {
                for d in -half...half { let x = Double(d) * dlon; o.append(d); w.append(exp(-x * x / (2 * sl * sl))) }
            }
            let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            offs.append(o)
            wts.append(w.map { Float($0 / norm) })
        }
        longitudeOffsets = offs
        longitudeWeights = wts

        var starts = [Int](), lw = [[Float]]()
        for j in 0..<nlat {
            var rows = [Int](), w = [Double]()
            for k in 0..<nlat {
                let d = grid.latitudes[k] - grid.latitudes[j]
                if abs(d) <= 3 * s { rows.append(k); w.append(exp(-d * d / (2 * s * s))) }
            }
            if rows.isEmpty { rows = [j]; w = [1] }
            let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            starts.append(rows[0])
            lw.append(w.map { Float($0 / norm) })
        }
        latitudeStart = starts
        latitudeWeights = lw
    }

    /// Number of scratch values `smooth` needs: the field plus three copies of a row.
    public var scratchCount: Int { latitudeCount * longitudeCount + 3 * longitudeCount }

    /// Smooths one field (lat, lon) `input` into `output`. `input` and `output` hold
    /// `latitudeCount × longitudeCount` values, `scratch` holds `scratchCount`; the three
    /// buffers must not overlap.
    public func smooth(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                       scratch: UnsafeMutablePointer<Float>) {
        let nlon = longitudeCount
        let padded = scratch + latitudeCount * nlon   // row copied three times: index p ↔ column p − nlon
        for j in 0..<latitudeCount {
            let src = input + j * nlon, dst = scratch + j * nlon
            for r in 0..<3 { (padded + r * nlon).update(from: src, count: nlon) }
            for i in 0..<nlon { dst[i] = 0 }
            let o = longitudeOffsets[j], w = longitudeWeights[j]
            for q in 0..<o.count {
                let wq = w[q], base = padded + nlon + o[q]
                for i in 0..<nlon { dst[i] += wq * base[i] }
            }
        }
        for j in 0..<latitudeCount {
            let dst = output + j * nlon
            for i in 0..<nlon { dst[i] = 0 }
            let start = latitudeStart[j]
            for (q, wq) in latitudeWeights[j].enumerated() {
                let src = scratch + (start + q) * nlon
                for i in 0..<nlon { dst[i] += wq * src[i] }
            }
        }
    }

    /// The full 2-D weight of source cell (k, m) in output cell (j, i) — the reference
    /// against which `smooth` is tested (sum over the separable factors).
    func weight(outputRow j: Int, column i: Int, sourceRow k: Int, column m: Int) -> Float {
        let q = k - latitudeStart[j]
        guard q >= 0, q < latitudeWeights[j].count else { return 0 }
        var w: Float = 0
        for (o, wl) in zip(longitudeOffsets[k], longitudeWeights[k]) {
            var ii = i + o
            ii = ((ii % longitudeCount) + longitudeCount) % longitudeCount
            if ii == m { w += wl }
        }
        return latitudeWeights[j][q] * w
    }
}
