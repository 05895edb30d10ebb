import Foundation
import CProj
import Climate

/// A piecewise-linear colour map on [0, 1].
public struct Colormap: Sendable {
    public var stops: [RGB]
    public init(stops: [RGB]) { self.stops = stops }
    /// Blue–white–red diverging map (ColorBrewer RdBu reversed).
    public static let diverging = Colormap(stops: [0x2166AC, 0x67A9CF, 0xD1E5F0, 0xF7F7F7, 0xFDDBC7, 0xEF8A62, 0xB2182B].map { RGB(hex: $0) })
    /// Perceptually ordered sequential map (viridis-like).
    public static let sequential = Colormap(stops: [0x440154, 0x3B528B, 0x21918C, 0x5EC962, 0xFDE725].map { RGB(hex: $0) })

    /// Colour at t ∈ [0, 1] (clamped).
    public func color(_ t: Double) -> RGB {
        let u = min(max(t.isFinite ? t : 0.5, 0), 1) * Double(stops.count - 1)
        let i = min(Int(u), stops.count - 2)
        return stops[i].mixed(with: stops[i + 1], u - Double(i))
    }
}

/// Robinson projection through PROJ, centred on `centralLongitude`.
final class RobinsonProjection {
    private let context: OpaquePointer
    private let pj: OpaquePointer
    let centralLongitude: Double

    init(centralLongitude: Double) throws {
        guard let ctx = proj_context_create() else { throw DiagnosticsError.projection("proj_context_create failed") }
        // The projection is built at lon_0 = 0; longitudes are shifted by the centre before
        // projecting, so cells can be split exactly at the map edge.
        guard let p = proj_create(ctx, "+proj=robin +lon_0=0 +R=1") else {
            let msg = String(cString: proj_context_errno_string(ctx, proj_context_errno(ctx)))
            proj_context_destroy(ctx)
            throw DiagnosticsError.projection("PROJ could not create \"+proj=robin\": \(msg)")
        }
        context = ctx; pj = p; self.centralLongitude = centralLongitude
    }
    deinit { proj_destroy(pj); proj_context_destroy(context) }

    /// Projected (x, y) of a longitude relative to the centre in [−180, 180] and a latitude.
    func project(relativeLongitude lon: Double, latitude lat: Double) -> (Double, Double) {
        let c = proj_trans(pj, PJ_FWD, proj_coord(max(-180, min(180, lon)) * .pi / 180, max(-90, min(90, lat)) * .pi / 180, 0, 0))
        return (c.xy.x, c.xy.y)
    }

    /// Longitude relative to the centre, wrapped to [−180, 180).
    func relative(_ lon: Double) -> Double {
        var r = (lon - centralLongitude).truncatingRemainder(dividingBy: 360)
        if r < -180 { r += 360 } else if r >= 180 { r -= 360 }
        return r
    }
}

/// Map figure settings.
struct MapSpec {
    var title: String
    /// Colour-bar label including units, e.g. "K per K of Niño3.4".
    var units: String
    var colormap: Colormap
    var range: ClosedRange<Double>
    var landMask: [Bool]?
    var centralLongitude: Double = 180
}

enum MapPlot {
    /// Draws `values` (row-major lat × lon on `grid`, NaN = missing, drawn grey) on a
    /// Robinson map with graticule, colour bar and either the outline of `landMask` or the
    /// built-in coarse continents, and writes a PNG.
    static func draw(_ values: [Double], grid: Grid, spec: MapSpec, to url: URL) throws {
        let W = 1000.0, H = 650.0
        let canvas = try Canvas(width: Int(W), height: Int(H))
        let proj = try RobinsonProjection(centralLongitude: spec.centralLongitude)
        let (xMax, _) = proj.project(relativeLongitude: 180, latitude: 0)
        let (_, yMax) = proj.project(relativeLongitude: 0, latitude: 90)
        let mapW = 920.0, scale = mapW / (2 * xMax), mapH = 2 * yMax * scale
        let ox = (W - mapW) / 2, oy = 56.0
        func toPixel(_ p: (Double, Double)) -> (Double, Double) { (ox + (p.0 + xMax) * scale, oy + (yMax - p.1) * scale) }
        func pt(_ rel: Double, _ lat: Double) -> (Double, Double) { toPixel(proj.project(relativeLongitude: rel, latitude: lat)) }
        /// Points along a meridian segment (curved in Robinson) every ≤ 3°.
        func meridian(_ rel: Double, _ lat0: Double, _ lat1: Double) -> [(Double, Double)] {
            let k = max(1, Int(ceil(abs(lat1 - lat0) / 3)))
            return (0...k).map { pt(rel, lat0 + (lat1 - lat0) * Double($0) / Double(k)) }
        }

        canvas.text(spec.title, x: W / 2, y: 26, size: 17, align: .center, bold: true)
        // Cells.
        let lo = spec.range.lowerBound, hi = spec.range.upperBound
        let nlon = grid.longitudeCount
        for j in 0..<grid.latitudeCount {
            let la = grid.latitudeBounds[j].min() ?? 0, lb = grid.latitudeBounds[j].max() ?? 0
            for i in 0..<nlon {
                let v = values[j * nlon + i]
                let color = v.isFinite ? spec.colormap.color((v - lo) / (hi - lo)) : RGB(0.8, 0.8, 0.8)
                let b = grid.longitudeBounds[i]
                let centre = proj.relative(0.5 * (b[0] + b[1]))
                let half = 0.5 * abs(b[1] - b[0])
                var pieces = [(centre - half, centre + half)]
                if centre - half < -180 { pieces = [(-180, centre + half), (centre - half + 360, 180)] }
                if centre + half > 180 { pieces = [(centre - half, 180), (-180, centre + half - 360)] }
                for (w, e) in pieces {
                    let poly = [pt(w, la), pt(e, la)] + meridian(e, la, lb) + [pt(w, lb)] + meridian(w, lb, la)
                    canvas.polygon(poly, fill: color, seamStroke: 0.8)
                }
            }
        }
        // Graticule every 30° of latitude and 60° of longitude.
        for lat in stride(from: -60.0, through: 60, by: 30) { canvas.line([pt(-180, lat), pt(180, lat)], color: .gray, width: 0.5, alpha: 0.6) }
        for lon in stride(from: 0.0, to: 360, by: 60) {
            let r = proj.relative(lon)
            if abs(r) < 179.9 { canvas.line(meridian(r, -90, 90), color: .gray, width: 0.5, alpha: 0.6) }
        }
        // Land outline: the mask's cell edges where land meets sea, or coarse continents.
        if let mask = spec.landMask, mask.count == grid.cellCount {
            for j in 0..<grid.latitudeCount {
                let la = grid.latitudeBounds[j].min() ?? 0, lb = grid.latitudeBounds[j].max() ?? 0
                for i in 0..<nlon {
                    let c = j * nlon + i
                    let eastEdge = max(grid.longitudeBounds[i][0], grid.longitudeBounds[i][1])
                    if mask[c] != mask[j * nlon + (i + 1) % nlon] {
                        let r = proj.relative(eastEdge)
                        if abs(r) < 179.999 { canvas.line(meridian(r, la, lb), color: .black, width: 1.1) }
                    }
                    if j + 1 < grid.latitudeCount, mask[c] != mask[c + nlon] {
                        let b = grid.longitudeBounds[i], w = proj.relative(min(b[0], b[1]))
                        let e = w + abs(b[1] - b[0])
                        canvas.line([pt(w, lb), pt(min(e, 180), lb)], color: .black, width: 1.1)
                        if e > 180 { canvas.line([pt(-180, lb), pt(e - 360, lb)], color: .black, width: 1.1) }
                    }
                }
            }
        } else {
            for outline in Continents.outlines {
                var pts = [(Double, Double)](), prev: (Double, Double)?
                for (lon, lat) in outline {
                    let r = proj.relative(lon)
                    if let (pr, plat) = prev {
                        if abs(r - pr) > 180 {
                            pts.append((.nan, .nan))                    // crosses the map edge
                        } else {
                            // Densify so long segments follow the projection's curvature.
                            let k = Int(ceil(max(abs(r - pr), abs(lat - plat)) / 5))
                            if k > 1 { for q in 1..<k { let f = Double(q) / Double(k); pts.append(pt(pr + (r - pr) * f, plat + (lat - plat) * f)) } }
                        }
                    }
                    pts.append(pt(r, lat)); prev = (r, lat)
                }
                canvas.line(pts, color: RGB(0.15, 0.15, 0.15), width: 0.9)
            }
        }
        // Map boundary.
        canvas.line(meridian(-180, -90, 90) + meridian(180, 90, -90) + [pt(-180, -90)], color: .black, width: 1.2)

        // Horizontal colour bar.
        let barW = 560.0, barH = 16.0, bx = (W - barW) / 2, by = oy + mapH + 24
        let steps = 200
        for s in 0..<steps {
            let t0 = Double(s) / Double(steps)
            canvas.rectangle(x: bx + t0 * barW, y: by, width: barW / Double(steps) + 0.6, height: barH, fill: spec.colormap.color(t0 + 0.5 / Double(steps)))
        }
        canvas.rectangle(x: bx, y: by, width: barW, height: barH, stroke: .black, lineWidth: 0.8)
        let ticks = niceTicks(spec.range, target: 8)
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        for t in ticks where spec.range.contains(t) {
            let x = bx + (t - lo) / (hi - lo) * barW
            canvas.line([(x, by + barH), (x, by + barH + 4)], color: .black, width: 1)
            canvas.text(tickLabel(t, step: step), x: x, y: by + barH + 14, size: 11, align: .center)
        }
        canvas.text(spec.units, x: W / 2, y: by + barH + 36, size: 12, align: .center)
        let note = spec.landMask != nil ? "outline: land mask" : "outline: coarse hand-drawn continents"
        canvas.text(note + "; grey: missing; values beyond the colour bar are clipped to its ends",
                    x: W / 2, y: H - 12, size: 9, align: .center, color: .gray)
        try canvas.writePNG(to: url)
    }

    /// Symmetric range ±r around `center` where r is a nice number ≥ the `quantile` of |v − center|.
    static func symmetricRange(_ v: [Double], center: Double = 0, minimum: Double = 1e-6, quantile: Double = 0.995) -> ClosedRange<Double> {
        let d = max(Statistics.quantile(v.map { abs($0 - center) }, quantile), minimum)
        let mag = pow(10, floor(log10(d)))
        let r = ([1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map { $0 * mag }.first { $0 >= d } ?? 10 * mag)
        return (center - r)...(center + r)
    }
}
