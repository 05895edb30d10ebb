import Foundation

/// A rectangular latitude–longitude region, e.g. Niño3.4 (5°S–5°N, 190°E–240°E).
public struct Region: Codable, Sendable, Equatable {
    public var name: String
    /// Southern and northern edges, degrees north.
    public var latitudeRange: ClosedRange<Double>
    /// Western and eastern edges, degrees east in [0, 360]; `west > east` wraps across 0°.
    public var west: Double
    public var east: Double

    public init(name: String, latitudeRange: ClosedRange<Double>, west: Double, east: Double) {
        self.name = name; self.latitudeRange = latitudeRange; self.west = west; self.east = east
    }

    /// Niño3.4: 5°S–5°N, 170°W–120°W (190°E–240°E).
    public static let nino34 = Region(name: "Niño3.4", latitudeRange: -5...5, west: 190, east: 240)

    /// Weight of every cell (row-major lat×lon): the area of the cell's intersection with
    /// the region, `(sin φ₂ − sin φ₁)·(λ₂ − λ₁)` over the overlap, normalised to sum 1.
    /// Cells partly inside count with their overlapping fraction. Throws when no cell overlaps.
    public func weights(on grid: Grid) throws -> [Double] {
        let lonIntervals: [(Double, Double)] = west <= east ? [(west, east)] : [(west, 360), (0, east)]
        var w = [Double](repeating: 0, count: grid.cellCount)
        for j in 0..<grid.latitudeCount {
            let b = grid.latitudeBounds[j]
            let lo = max(min(b[0], b[1]), latitudeRange.lowerBound), hi = min(max(b[0], b[1]), latitudeRange.upperBound)
            guard hi > lo else { continue }
            let latPart = sin(hi * .pi / 180) - sin(lo * .pi / 180)
            for i in 0..<grid.longitudeCount {
                let lb = grid.longitudeBounds[i]
                let a = min(lb[0], lb[1]), c = max(lb[0], lb[1])
                var overlap = 0.0
                // The cell may be written as [-Δ, Δ] or [360 − Δ, 360 + Δ]; test shifted copies.
                for shift in [-360.0, 0, 360] {
                    for (rw, re) in lonIntervals { overlap += max(0, min(c + shift, re) - max(a + shift, rw)) }
                }
                w[j * grid.longitudeCount + i] = latPart * overlap
            }
        }
        let s = w.reduce(0, +)
        guard s > 0 else { throw Grid.GridError.invalid("region \(name) does not overlap the grid \(grid.summary)") }
        return w.map { $0 / s }
    }
}
