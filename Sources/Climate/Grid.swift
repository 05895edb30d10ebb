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

    /// Bounds at midpoints between neighbours, extrapolated by half a step at the ends.
    static func derivedBounds(_ x: [Double], clampTo range: ClosedRange<Double>?) throws -> [[Double]] {
        guard x.count > 1 else { throw GridError.invalid("cannot derive bounds for a single coordinate value") }
        var edges = [Double](repeating: 0, count: x.count + 1)
        for i in 1..<x.count { edges[i] = 0.5 * (x[i - 1] + x[i]) }
        edges[0] = x[0] - (edges[1] - x[0])
        edges[x.count] = x[x.count - 1] + (x[x.count - 1] - edges[x.count - 1])
        if let r = range { edges = edges.map { min(max($0, r.lowerBound), r.upperBound) } }
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

    /// Nominal spacing (degrees) of latitude and longitude: mean cell width.
    public var resolution: (latitude: Double, longitude: Double) {
        (latitudeBounds.map { abs($0[1] - $0[0]) }.reduce(0, +) / Double(latitudeCount),
         longitudeBounds.map { abs($0[1] - $0[0]) }.reduce(0, +) / Double(longitudeCount))
    }

    /// True when the longitudes cover the full circle (periodic in longitude).
    public var isGlobalInLongitude: Bool {
        abs(longitudeBounds.map { abs($0[1] - $0[0]) }.reduce(0, +) - 360) < 1e-6 * 360
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
