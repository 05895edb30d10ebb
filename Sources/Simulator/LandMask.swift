import Climate
import Foundation

/// An idealised, analytic land mask: continents are unions of super-ellipses in
/// (longitude, latitude) degrees, plus an Antarctic cap. Recognisable at 32×64 and
/// resolution independent (land fraction of a cell = fraction of an 8×8 set of sample
/// points inside land). The equatorial Pacific 170°W–120°W is open ocean by construction.
public enum LandMask {
    /// A super-ellipse |Δλ/a|^p + |Δφ/b|^p ≤ 1 (Δλ wrapped to [−180, 180)).
    struct Shape {
        let name: String
        let longitude: Double, latitude: Double       // centre, degrees (longitude in −180...180)
        let longitudeRadius: Double, latitudeRadius: Double
        let exponent: Double

        func contains(longitude lon: Double, latitude lat: Double) -> Bool {
            var dl = lon - longitude
            dl -= 360 * (dl / 360).rounded()
            let x = abs(dl) / longitudeRadius, y = abs(lat - latitude) / latitudeRadius
            if x > 1 || y > 1 { return false }
            return pow(x, exponent) + pow(y, exponent) <= 1
        }
    }

    /// The continents. Coordinates are rough outlines of the real ones (degrees east/north).
    static let shapes: [Shape] = [
        // Eurasia
        Shape(name: "Europe", longitude: 15, latitude: 51, longitudeRadius: 26, latitudeRadius: 13, exponent: 2.5),
        Shape(name: "Scandinavia", longitude: 20, latitude: 64, longitudeRadius: 11, latitudeRadius: 7, exponent: 2),
        Shape(name: "Great Britain", longitude: -3, latitude: 54, longitudeRadius: 4, latitudeRadius: 5, exponent: 2),
        Shape(name: "Siberia", longitude: 100, latitude: 62, longitudeRadius: 62, latitudeRadius: 12, exponent: 3),
        Shape(name: "Central Asia", longitude: 75, latitude: 43, longitudeRadius: 38, latitudeRadius: 12, exponent: 2.5),
        Shape(name: "East Asia", longitude: 112, latitude: 33, longitudeRadius: 14, latitudeRadius: 14, exponent: 2),
        Shape(name: "Arabia", longitude: 46, latitude: 23, longitudeRadius: 10, latitudeRadius: 9, exponent: 2),
        Shape(name: "India", longitude: 78, latitude: 21, longitudeRadius: 10, latitudeRadius: 13, exponent: 1.6),
        Shape(name: "Indochina", longitude: 102, latitude: 16, longitudeRadius: 6, latitudeRadius: 8, exponent: 2),
        Shape(name: "Japan", longitude: 137, latitude: 37, longitudeRadius: 4, latitudeRadius: 5, exponent: 2),
        // Maritime continent
        Shape(name: "Borneo", longitude: 114, latitude: 1, longitudeRadius: 5, latitudeRadius: 4, exponent: 2),
        Shape(name: "Sumatra", longitude: 101, latitude: -1, longitudeRadius: 4, latitudeRadius: 5, exponent: 2),
        Shape(name: "New Guinea", longitude: 142, latitude: -5, longitudeRadius: 9, latitudeRadius: 3.5, exponent: 2),
        // Africa
        Shape(name: "North Africa", longitude: 12, latitude: 18, longitudeRadius: 30, latitudeRadius: 15, exponent: 3),
        Shape(name: "Southern Africa", longitude: 24, latitude: -10, longitudeRadius: 15, latitudeRadius: 24, exponent: 2.2),
        Shape(name: "Horn of Africa", longitude: 44, latitude: 8, longitudeRadius: 7, latitudeRadius: 5, exponent: 2),
        Shape(name: "Madagascar", longitude: 47, latitude: -19, longitudeRadius: 3, latitudeRadius: 7, exponent: 2),
        // North America
        Shape(name: "North America", longitude: -100, latitude: 50, longitudeRadius: 38, latitudeRadius: 18, exponent: 3),
        Shape(name: "Alaska", longitude: -152, latitude: 64, longitudeRadius: 14, latitudeRadius: 7, exponent: 2),
        Shape(name: "Canadian Arctic", longitude: -95, latitude: 72, longitudeRadius: 25, latitudeRadius: 6, exponent: 2),
        Shape(name: "Greenland", longitude: -42, latitude: 73, longitudeRadius: 14, latitudeRadius: 10, exponent: 2),
        Shape(name: "Mexico", longitude: -102, latitude: 24, longitudeRadius: 10, latitudeRadius: 9, exponent: 2),
        Shape(name: "Central America", longitude: -88, latitude: 14, longitudeRadius: 7, latitudeRadius: 5, exponent: 2),
        // South America
        Shape(name: "South America", longitude: -60, latitude: -6, longitudeRadius: 20, latitudeRadius: 16, exponent: 2.2),
        Shape(name: "Patagonia", longitude: -66, latitude: -32, longitudeRadius: 10, latitudeRadius: 20, exponent: 2),
        // Oceania
        Shape(name: "Australia", longitude: 134, latitude: -25, longitudeRadius: 19, latitudeRadius: 11, exponent: 2.5),
        Shape(name: "New Zealand", longitude: 172, latitude: -41, longitudeRadius: 4, latitudeRadius: 6, exponent: 2),
    ]

    /// Latitude of the Antarctic coast at longitude `lon` (degrees east): −70 + 4 cos(λ − 90°),
    /// so East Antarctica reaches −66° and the Weddell/Ross side −74°.
    static func antarcticCoast(longitude lon: Double) -> Double {
        -70 + 4 * cos((lon - 90) * .pi / 180)
    }

    /// Whether the point (degrees east, degrees north) is land.
    public static func isLand(longitude: Double, latitude: Double) -> Bool {
        if latitude <= antarcticCoast(longitude: longitude) { return true }
        let lon = longitude >= 180 ? longitude - 360 : longitude
        return shapes.contains { $0.contains(longitude: lon, latitude: latitude) }
    }

    /// Name of the shape containing the point, `"Antarctica"`, or nil over ocean.
    public static func continent(longitude: Double, latitude: Double) -> String? {
        if latitude <= antarcticCoast(longitude: longitude) { return "Antarctica" }
        let lon = longitude >= 180 ? longitude - 360 : longitude
        return shapes.first { $0.contains(longitude: lon, latitude: latitude) }?.name
    }

    /// Land fraction of every cell of `grid`, row-major (lat, lon), in [0, 1]: the fraction
    /// of `samples × samples` points, evenly spread inside the cell bounds, that are land.
    public static func landFraction(on grid: Grid, samples: Int = 8) -> [Float] {
        var f = [Float](repeating: 0, count: grid.cellCount)
        let n = max(1, samples)
        for j in 0..<grid.latitudeCount {
            let lb = grid.latitudeBounds[j]
            for i in 0..<grid.longitudeCount {
                let xb = grid.longitudeBounds[i]
                var count = 0
                for a in 0..<n {
                    let lat = lb[0] + (Double(a) + 0.5) / Double(n) * (lb[1] - lb[0])
                    for b in 0..<n {
                        var lon = xb[0] + (Double(b) + 0.5) / Double(n) * (xb[1] - xb[0])
                        lon = lon.truncatingRemainder(dividingBy: 360)
                        if lon < 0 { lon += 360 }
                        if isLand(longitude: lon, latitude: lat) { count += 1 }
                    }
                }
                f[j * grid.longitudeCount + i] = Float(count) / Float(n * n)
            }
        }
        return f
    }

    /// Land fraction of the Antarctic cap only (used for the ice-sheet elevation cooling).
    static func antarcticFraction(on grid: Grid, samples: Int = 8) -> [Float] {
        var f = [Float](repeating: 0, count: grid.cellCount)
        let n = max(1, samples)
        for j in 0..<grid.latitudeCount where grid.latitudeBounds[j][0] < -60 {
            let lb = grid.latitudeBounds[j]
            for i in 0..<grid.longitudeCount {
                let xb = grid.longitudeBounds[i]
                var count = 0
                for a in 0..<n {
                    let lat = lb[0] + (Double(a) + 0.5) / Double(n) * (lb[1] - lb[0])
                    for b in 0..<n {
                        let lon = xb[0] + (Double(b) + 0.5) / Double(n) * (xb[1] - xb[0])
                        if lat <= antarcticCoast(longitude: lon) { count += 1 }
                    }
                }
                f[j * grid.longitudeCount + i] = Float(count) / Float(n * n)
            }
        }
        return f
    }
}
