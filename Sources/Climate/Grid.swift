import Foundation

/// A rectilinear latitude–longitude grid, held south→north and with longitudes ascending
/// in [0, 360), whatever the order in the file it came from.
///
/// Cell bounds are in degrees; area weights are proportional to
/// `(sin φ₂ − sin φ₁) · (λ₂ − λ₁)` and sum to 1 over the grid.
public struct Grid: Equatable, Sendable, Codable {
    /// Cell-centre latitudes, degrees north, ascending. Count `latitudeCount`.
    public let latitudes: [Double]
    /// Cell-centre longitudes, degrees east, ascending in [0, 360). Count `longitudeCount`.
    public let longitudes: [Double]
    /// Cell bounds `[lower, upper]` in degrees north, one pair per latitude.
    public let latitudeBounds: [[Double]]
    /// Cell bounds `[lower, upper]` in degrees east, one pair per longitude.
    public let longitudeBounds: [[Double]]

    public var latitudeCount: Int { latitudes.count }
    public var longitudeCount: Int { longitudes.count }
    /// Number of grid cells, `latitudeCount × longitudeCount`.
    public var cellCount: Int { latitudes.count * longitudes.count }

    public enum GridError: Error, CustomStringConvertible, Equatable {
        case invalid(String)
        public var description: String {
            switch self { case .invalid(let m): return "invalid grid: \(m)" }
        }
    }

    /// Builds a grid from coordinates already in program order (latitude ascending,
    /// longitude ascending in [0, 360)). Bounds are derived from midpoints when omitted
    /// (latitude bounds clipped to ±90°).
    public init(latitudes: [Double], longitudes: [Double],
                latitudeBounds: [[Double]]? = nil, longitudeBounds: [[Double]]? = nil) throws {
        guard !latitudes.isEmpty, !longitudes.isEmpty else { throw GridError.invalid("empty coordinate") }
        guard zip(latitudes, latitudes.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw GridError.invalid("latitudes are not strictly ascending")
        }
        guard zip(longitudes, longitudes.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw GridError.invalid("longitudes are not strictly ascending")
        }
        guard latitudes.allSatisfy({ abs($0) <= 90 }) else { throw GridError.invalid("latitude outside [-90, 90]") }
        self.latitudes = latitudes
        self.longitudes = longitudes
        self.latitudeBounds = try latitudeBounds ?? Grid.derivedBounds(latitudes, clampTo: -90...90)
        self.longitudeBounds = try longitudeBounds ?? Grid.derivedBounds(longitudes, clampTo: nil)
        guard self.latitudeBounds.count == latitudes.count, self.longitudeBounds.count == longitudes.count,
              (self.latitudeBounds + self.longitudeBounds).allSatisfy({ $0.count == 2 })
        else { throw GridError.invalid("bounds do not have shape (n, 2)") }
    }

    /// A global regular grid of `latitudeCount × longitudeCount` equal-angle cells, centres
    /// at −90 + (j + ½)·Δφ and (i + ½)·Δλ... with longitudes starting at 0 (cell edges at
    /// 0, Δλ, …) so the first centre is Δλ/2.
    public static func regular(latitudeCount: Int, longitudeCount: Int) -> Grid {
        let dlat = 180.0 / Double(latitudeCount), dlon = 360.0 / Double(longitudeCount)
        let lat = (0..<latitudeCount).map { -90 + (Double($0) + 0.5) * dlat }
        let lon = (0..<longitudeCount).map { (Double($0) + 0.5) * dlon }
        let latB = (0..<latitudeCount).map { [-90 + Double($0) * dlat, -90 + Double($0 + 1) * dlat] }
        let lonB = (0..<longitudeCount).map { [Double($0) * dlon, Double($0 + 1) * dlon] }
        // Safe: constructed ascending and within range.
        return try! Grid(latitudes: lat, longitudes: lon, latitudeBounds: latB, longitudeBounds: lonB)
    }

    /// A global grid whose outer latitudes are the poles, as CMIP files on a 2.5° grid have
    /// them (73 × 144: centres −90, −87.5 … 90; polar cells half as tall), longitudes from 0.
    public static func withPolePoints(latitudeCount: Int, longitudeCount: Int) throws -> Grid {
        guard latitudeCount >= 3, longitudeCount >= 2 else {
            throw GridError.invalid("a grid with pole points needs at least 3 latitudes and 2 longitudes")
        }
        let dlat = 180.0 / Double(latitudeCount - 1)
        let lat = (0..<latitudeCount).map { $0 == latitudeCount - 1 ? 90 : -90 + Double($0) * dlat }
        let (lon, lonB) = longitudesFromZero(longitudeCount)
        return try Grid(latitudes: lat, longitudes: lon, longitudeBounds: lonB)
    }

    /// A global Gaussian grid (as spectral models such as MPI-ESM T63, 96 × 192, use):
    /// latitudes at the zeros of the Legendre polynomial P_n(sin φ), cell edges where the
    /// Gaussian weights put them (sin φ of the edges accumulates the quadrature weights),
    /// longitudes from 0.
    public static func gaussian(latitudeCount n: Int, longitudeCount: Int) throws -> Grid {
        guard n >= 2, longitudeCount >= 2 else { throw GridError.invalid("a Gaussian grid needs at least 2 latitudes and 2 longitudes") }
        var nodes = [Double](repeating: 0, count: n), weights = [Double](repeating: 0, count: n)
        for k in 0..<n {
            // Newton's method on P_n from the classical first guess; nodes come out descending.
            var x = cos(Double.pi * (Double(k) + 0.75) / (Double(n) + 0.5)), derivative = 0.0
            for _ in 0..<100 {
                var (p0, p1) = (1.0, x)
                for order in 2...n {
                    (p0, p1) = (p1, ((2 * Double(order) - 1) * x * p1 - Double(order - 1) * p0) / Double(order))
                }
                derivative = Double(n) * (x * p1 - p0) / (x * x - 1)
                let step = p1 / derivative
                x -= step
                if abs(step) < 1e-15 { break }
            }
            nodes[n - 1 - k] = x
            weights[n - 1 - k] = 2 / ((1 - x * x) * derivative * derivative)
        }
        var edges = [-1.0]
        for w in weights { edges.append(min(edges[edges.count - 1] + w, 1)) }
        edges[n] = 1
        let degrees = { (s: Double) in asin(max(-1, min(1, s))) * 180 / .pi }
        let latB = (0..<n).map { [degrees(edges[$0]), degrees(edges[$0 + 1])] }
        let (lon, lonB) = longitudesFromZero(longitudeCount)
        return try Grid(latitudes: nodes.map(degrees), longitudes: lon, latitudeBounds: latB, longitudeBounds: lonB)
    }

    /// `count` equally spaced longitude centres from 0° and their cell bounds (the first cell
    /// straddles 0°), as model grids with a column at the Greenwich meridian have them.
    private static func longitudesFromZero(_ count: Int) -> (centres: [Double], bounds: [[Double]]) {
        let step = 360.0 / Double(count)
        return ((0..<count).map { Double($0) * step }, (0..<count).map { [(Double($0) - 0.5) * step, (Double($0) + 0.5) * step] })
    }

    /// Bounds at midpoints between neighbours (of grid coordinates, and of time values without bounds), extrapolated by half a step at the ends.
    static func derivedBounds(_ x: [Double], clampTo range: ClosedRange<Double>?) throws -> [[Double]] {
        guard x.count > 1 else { throw GridError.invalid("cannot derive bounds for a single coordinate value") }
        var edges = [Double](repeating: 0, count: x.count + 1)
        for i in 1..<x.count { edges[i] = 0.5 * (x[i - 1] + x[i]) }
        edges[0] = x[0] - (edges[1] - x[0])
        edges[x.count] = x[x.count - 1] + (x[x.count - 1] - edges[x.count - 1])
        if let r = range {
            // An outer edge within half a cell of the limit is the limit: the extrapolated
            // edges of a Gaussian grid (first centre 88.57° on T63) fall just short of the pole.
            let first = edges[1] - edges[0], last = edges[x.count] - edges[x.count - 1]
            if edges[0] - r.lowerBound < 0.5 * first { edges[0] = r.lowerBound }
            if r.upperBound - edges[x.count] < 0.5 * last { edges[x.count] = r.upperBound }
            edges = edges.map { min(max($0, r.lowerBound), r.upperBound) }
        }
        return (0..<x.count).map { [edges[$0], edges[$0 + 1]] }
    }

    /// Area weight of each latitude row (sin φ₂ − sin φ₁), normalised so that
    /// `sum over cells` of `rowWeight[j] · longitudeFraction[i]` is 1.
    public var latitudeWeights: [Double] {
        let w = latitudeBounds.map { abs(sin($0[1] * .pi / 180) - sin($0[0] * .pi / 180)) }
        let s = w.reduce(0, +)
        return w.map { $0 / s }
    }

    /// Fraction of the longitude circle covered by each column, normalised to sum 1.
    public var longitudeWeights: [Double] {
        let w = longitudeBounds.map { abs($0[1] - $0[0]) }
        let s = w.reduce(0, +)
        return w.map { $0 / s }
    }

    /// Area weight of every cell, row-major (lat, lon), summing to 1.
    public var areaWeights: [Double] {
        let wl = latitudeWeights, wx = longitudeWeights
        var w = [Double](repeating: 0, count: cellCount)
        for j in 0..<latitudeCount { for i in 0..<longitudeCount { w[j * longitudeCount + i] = wl[j] * wx[i] } }
        return w
    }

    /// Nominal spacing (degrees) of latitude and longitude: the distance between neighbouring
    /// centres, averaged (2.5° on a 73×144 grid with pole points, whose clipped polar cells
    /// are half as tall; the mean cell height there would be 2.466°).
    public var resolution: (latitude: Double, longitude: Double) {
        func spacing(_ x: [Double], bounds: [[Double]]) -> Double {
            x.count > 1 ? (x[x.count - 1] - x[0]) / Double(x.count - 1) : abs(bounds[0][1] - bounds[0][0])
        }
        guard !isGlobalInLongitude else { return (spacing(latitudes, bounds: latitudeBounds), 360 / Double(longitudeCount)) }
        // A box may cross 0°: its width runs from its western to its eastern centre.
        let (west, east) = longitudeExtent
        let width = (east - west + 360).truncatingRemainder(dividingBy: 360)
        return (spacing(latitudes, bounds: latitudeBounds),
                longitudeCount > 1 ? width / Double(longitudeCount - 1) : abs(longitudeBounds[0][1] - longitudeBounds[0][0]))
    }

    /// Whether the latitudes are equally spaced (within 0.1 % of the spacing): a regular grid,
    /// as opposed to a Gaussian one.
    public var hasRegularLatitudes: Bool {
        let step = resolution.latitude
        return zip(latitudes, latitudes.dropFirst()).allSatisfy { abs($1 - $0 - step) <= 1e-3 * step }
    }

    /// True when the longitudes cover the full circle (periodic in longitude): the cells add
    /// up to 360° and no gap between neighbouring centres, across 360° included, is wider than
    /// two mean spacings (derived bounds of a box crossing 0° can also add up to 360°).
    public var isGlobalInLongitude: Bool {
        let lon = longitudes, n = Double(lon.count)
        let widest = zip(lon, lon.dropFirst()).map { $1 - $0 }.reduce(lon[0] + 360 - lon[lon.count - 1], max)
        return abs(longitudeBounds.map { abs($0[1] - $0[0]) }.reduce(0, +) - 360) < 1e-6 * 360 && widest <= 2 * 360 / n
    }

    /// True when the latitudes reach both poles: the outer cell edges lie at ±90°, or the
    /// outer centres within one spacing of them.
    public var isGlobalInLatitude: Bool {
        let step = resolution.latitude, south = latitudeBounds[0].min()!, north = latitudeBounds[latitudeCount - 1].max()!
        return (south <= -90 + 1e-6 || latitudes[0] + 90 <= step * 1.001)
            && (north >= 90 - 1e-6 || 90 - latitudes[latitudeCount - 1] <= step * 1.001)
    }

    /// True for a global grid: the full circle in longitude, pole to pole in latitude.
    public var isGlobal: Bool { isGlobalInLongitude && isGlobalInLatitude }

    /// Westernmost and easternmost cell centres, degrees east in [0, 360). On a regional grid
    /// that crosses 0° (a European box from 350° to 30°) `west > east`; on a global grid
    /// they are the first and last longitudes.
    public var longitudeExtent: (west: Double, east: Double) {
        let lon = longitudes
        guard !isGlobalInLongitude, lon.count > 1 else { return (lon[0], lon[lon.count - 1]) }
        // The box lies opposite its largest gap, the gap across 360° included.
        var gapEnd = 0, widest = lon[0] + 360 - lon[lon.count - 1]
        for i in 1..<lon.count where lon[i] - lon[i - 1] > widest { (gapEnd, widest) = (i, lon[i] - lon[i - 1]) }
        return (lon[gapEnd], lon[(gapEnd + lon.count - 1) % lon.count])
    }

    /// "latitudes -20…20, longitudes 350…30 (crossing 0°)": the centres' extent, degrees.
    public var extentDescription: String {
        func g(_ x: Double) -> String { String(format: "%g", x) }
        let (west, east) = longitudeExtent
        return "latitudes \(g(latitudes[0]))…\(g(latitudes[latitudeCount - 1])), longitudes \(g(west))…\(g(east))"
            + (west > east ? " (crossing 0°)" : "")
    }

    /// "2.5° × 2.5° regular", "1.87° × 1.88° Gaussian-like (mean spacing)": the spacings, and
    /// whether the latitudes are equally spaced.
    public var spacingDescription: String {
        let r = resolution
        func g(_ x: Double) -> String { String(format: "%.4g", x) }
        return "\(g(r.latitude))° × \(g(r.longitude))°" + (hasRegularLatitudes ? "" : " (latitudes unequally spaced, mean spacing)")
    }

    /// Whether two grids have the same coordinates within `tolerance` degrees.
    public func matches(_ other: Grid, tolerance: Double = 1e-4) -> Bool {
        latitudeCount == other.latitudeCount && longitudeCount == other.longitudeCount
            && zip(latitudes, other.latitudes).allSatisfy { abs($0 - $1) <= tolerance }
            && zip(longitudes, other.longitudes).allSatisfy { abs($0 - $1) <= tolerance }
    }

    /// A short description such as "32×64 (5.62°×5.62°)".
    public var summary: String {
        let r = resolution
        return "\(latitudeCount)×\(longitudeCount) (\(String(format: "%.3g", r.latitude))°×\(String(format: "%.3g", r.longitude))°)"
    }
}

/// How the latitudes of a global grid are placed (the longitudes are equally spaced in each).
public enum LatitudeSpacing: String, CaseIterable, Sendable {
    /// Equal-angle cells with centres half a cell from the poles (`Grid.regular`).
    case cellCentred = "cell-centred"
    /// Equal spacing with the first and last centre at the poles (`Grid.withPolePoints`).
    case polePoints = "pole-points"
    /// The latitudes of a spectral model's Gaussian grid (`Grid.gaussian`).
    case gaussian

    /// The global grid of `latitudes` × `longitudes` with these latitudes.
    public func grid(latitudes: Int, longitudes: Int) throws -> Grid {
        switch self {
        case .cellCentred: return Grid.regular(latitudeCount: latitudes, longitudeCount: longitudes)
        case .polePoints: return try Grid.withPolePoints(latitudeCount: latitudes, longitudeCount: longitudes)
        case .gaussian: return try Grid.gaussian(latitudeCount: latitudes, longitudeCount: longitudes)
        }
    }
}
