// Extends a global grid of any size to the VAE's downsampling multiple, geographically,
// and crops back: the network sees a padded grid, the user only ever the original one.

import Climate

/// The map from a global latitude–longitude grid to the smallest grid whose sizes are
/// multiples of `multiple`, so that a VAE that halves the grid L times can encode fields of
/// any size (73×144, 145×192, 45×90 …).
///
/// Extra columns continue the circle (column `n + k` is column `k`). Extra rows cross the
/// poles, split between south (the smaller half) and north: the row beyond a pole is the row
/// at the same distance on the other side of it, half way round in longitude, skipping a
/// row of pole points (centres at ±90°) so that it is not repeated. Padded cells carry no
/// weight in the training loss and are cropped away after decoding.
public struct GridPadding: Equatable, Sendable {
    /// Sizes of the original grid.
    public let latitudes: Int, longitudes: Int
    /// Sizes of the padded grid, multiples of `multiple`.
    public let paddedLatitudes: Int, paddedLongitudes: Int
    /// Rows added south of the first latitude (the rest go north of the last).
    public let southRows: Int
    /// Original cell (row-major) of each padded cell (row-major), [paddedLatitudes · paddedLongitudes].
    let source: [Int]

    /// - Parameters:
    ///   - grid: a global grid, latitudes ascending (as `Grid` holds them).
    ///   - multiple: the downsampling factor, ≥ 1.
    public init(grid: Grid, multiple: Int) {
        let (nlat, nlon) = (grid.latitudeCount, grid.longitudeCount)
        let m = max(multiple, 1)
        latitudes = nlat
        longitudes = nlon
        paddedLatitudes = (nlat + m - 1) / m * m
        paddedLongitudes = (nlon + m - 1) / m * m
        southRows = (paddedLatitudes - nlat) / 2
        let southPole = abs(grid.latitudes[0] + 90) < 1e-6, northPole = abs(grid.latitudes[nlat - 1] - 90) < 1e-6
        var source = [Int](repeating: 0, count: paddedLatitudes * paddedLongitudes)
        for row in 0..<paddedLatitudes {
            // k ≥ 1: the k-th row beyond a pole, which mirrors the k-th row inside it.
            let j = row - southRows
            let (sourceRow, acrossPole): (Int, Bool)
            if j < 0 {
                sourceRow = -j - (southPole ? 0 : 1)
                acrossPole = true
            } else if j >= nlat {
                sourceRow = 2 * nlat - 1 - j - (northPole ? 1 : 0)
                acrossPole = true
            } else {
                (sourceRow, acrossPole) = (j, false)
            }
            let r = min(max(sourceRow, 0), nlat - 1)
            for column in 0..<paddedLongitudes {
                let i = (column + (acrossPole ? nlon / 2 : 0)) % nlon
                source[row * paddedLongitudes + column] = r * nlon + i
            }
        }
        self.source = source
    }

    /// Whether the grid already has the padded sizes.
    public var isIdentity: Bool { paddedLatitudes == latitudes && paddedLongitudes == longitudes }

    /// Fields [count, lat, lon] on the padded grid [count, paddedLat, paddedLon].
    public func pad<T>(_ fields: [T], count: Int) -> [T] {
        guard !isIdentity else { return fields }
        let cells = latitudes * longitudes, padded = source.count
        var out = [T]()
        out.reserveCapacity(count * padded)
        for n in 0..<count {
            let base = n * cells
            for p in 0..<padded { out.append(fields[base + source[p]]) }
        }
        return out
    }

    /// Fields [count, paddedLat, paddedLon] cut back to the original grid [count, lat, lon].
    public func crop<T>(_ fields: [T], count: Int) -> [T] {
        guard !isIdentity else { return fields }
        var out = [T]()
        out.reserveCapacity(count * latitudes * longitudes)
        for n in 0..<count {
            for j in 0..<latitudes {
                let start = (n * paddedLatitudes + southRows + j) * paddedLongitudes
                out += fields[start..<(start + longitudes)]
            }
        }
        return out
    }

    /// Per-cell weights [lat, lon] on the padded grid, zero on the padded cells.
    public func maskedWeights(_ weights: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: source.count)
        for j in 0..<latitudes {
            for i in 0..<longitudes { out[(southRows + j) * paddedLongitudes + i] = weights[j * longitudes + i] }
        }
        return out
    }
}
