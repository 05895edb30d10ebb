import Climate
import Foundation

/// The fixed spatial fields of the simulator, computed once per grid: climatology,
/// forced-response patterns, ENSO and Atlantic patterns, and the weather-noise amplitude
/// and persistence. All are row-major (lat, lon) Float arrays unless stated.
struct Patterns: Sendable {
    let landFraction: [Float]
    /// Climatology, (month 0..<12, lat, lon), K.
    let climatology: [Float]
    /// Warming per K of global-mean non-volcanic response (area mean 1).
    let forced: [Float]
    /// Cooling per K of global-mean volcanic response (area mean 1).
    let volcanic: [Float]
    /// Instantaneous ENSO pattern, K per K of the oscillator's Niño3.4 temperature
    /// (Niño3.4 box mean exactly 1).
    let enso: [Float]
    /// Lagged ENSO imprint, K per K (area mean `ensoGlobalImprint`, zero in the Niño3.4 box).
    let ensoLagged: [Float]
    /// Atlantic multidecadal pattern, K per unit index.
    let atlantic: [Float]
    /// Weather-noise standard deviation, (month 0..<12, lat, lon), K.
    let noiseAmplitude: [Float]
    /// AR(1) coefficient a and innovation weight √(1 − a²) per cell.
    let persistence: [Float], innovation: [Float]

    init(grid: Grid, parameters p: SimulatorParameters) {
        let nlat = grid.latitudeCount, nlon = grid.longitudeCount, n = grid.cellCount
        let land = LandMask.landFraction(on: grid)
        let ice = LandMask.antarcticFraction(on: grid)
        let area = grid.areaWeights
        landFraction = land
        let deg = Double.pi / 180

        func areaMean(_ f: [Double]) -> Double { zip(f, area).reduce(0) { $0 + $1.0 * $1.1 } }
        func normalised(_ f: [Double], to target: Double = 1) -> [Float] {
            let m = areaMean(f)
            return f.map { Float($0 * target / m) }
        }
        /// Signed longitude difference λ − λ₀ in (−180, 180].
        func dlon(_ lon: Double, _ lon0: Double) -> Double {
            var d = lon - lon0
            d -= 360 * (d / 360).rounded()
            return d
        }
        func blob(_ lat: Double, _ lon: Double, _ lat0: Double, _ lon0: Double, _ sLat: Double, _ sLon: Double) -> Double {
            let x = dlon(lon, lon0) / sLon, y = (lat - lat0) / sLat
            return exp(-0.5 * (x * x + y * y))
        }

        // Climatology.
        var clim = [Float](repeating: 0, count: 12 * n)
        for j in 0..<nlat {
            let phi = grid.latitudes[j], s = sin(phi * deg), s2 = s * s
            let hemisphere = tanh(phi / 8)                      // +1 north, −1 south, smooth at the equator
            let seaIce = pow(max(0, (abs(phi) - 60) / 30), 2)   // 0 equatorward of 60°, 1 at the poles
            for i in 0..<nlon {
                let c = j * nlon + i, lf = Double(land[c])
                // Annual mean: equator-to-pole gradient, colder continental interiors at
                // high latitude, ice-sheet elevation over Antarctica (~2.5 km × 6.5 K/km).
                let annual = 302 - 38 * s2 - 9 * s2 * s2 - 8 * lf * s2 + 1.0 * lf * (1 - s2) - 18 * Double(ice[c])
                let oceanAmp = (0.5 + 6 * s2 * (phi < 0 ? 0.6 : 1)) + 12 * seaIce
                let landAmp = 1 + 22 * pow(abs(s), 1.5)
                let amp = (1 - lf) * oceanAmp + lf * landAmp
                let peak = 6.5 + 1.0 * (1 - lf)                 // mid-July over land, mid-August over ocean
                for m in 0..<12 {
                    let phase = 2 * Double.pi * (Double(m) + 0.5 - peak) / 12
                    clim[m * n + c] = Float(annual + hemisphere * amp * cos(phase))
                }
            }
        }
        climatology = clim

        // Forced patterns.
        var forcedRaw = [Double](repeating: 0, count: n), volcRaw = forcedRaw
        for j in 0..<nlat {
            let phi = grid.latitudes[j]
            let arctic = 1 + (p.arcticAmplification - 1) * smoothStep((phi - 45) / 40)
            let southernOcean = 1 - 0.3 * smoothStep((-phi - 45) / 20)
            for i in 0..<nlon {
                let c = j * nlon + i, lf = Double(land[c])
                forcedRaw[c] = (lf * p.landOceanWarmingRatio + (1 - lf)) * arctic * southernOcean
                volcRaw[c] = (lf * p.volcanicLandOceanRatio + (1 - lf)) * (1 + 0.3 * smoothStep((phi - 20) / 50))
            }
        }
        forced = normalised(forcedRaw)
        volcanic = normalised(volcRaw)

        // ENSO: equatorial tongue from the date line to the coast of South America, a
        // western-Pacific horseshoe of opposite sign and instantaneous teleconnections.
        var ensoRaw = [Double](repeating: 0, count: n), lagRaw = ensoRaw, amvRaw = ensoRaw
        for j in 0..<nlat {
            let phi = grid.latitudes[j]
            for i in 0..<nlon {
                let c = j * nlon + i, lon = grid.longitudes[i], lf = Double(land[c])
                // Longitude profile: rises from 150°E, flat 180–260°E, falls to 0 at 285°E.
                let prof = smoothStep((lon - 150) / 30) * (1 - smoothStep((lon - 255) / 30))
                let tongue = (1 - lf) * prof * exp(-0.5 * pow(phi / 8, 2))
                let horseshoe = -0.35 * (1 - lf) * (blob(phi, lon, 22, 160, 9, 25) + blob(phi, lon, -22, 170, 9, 25))
                let tele = 0.6 * blob(phi, lon, 57, -125, 9, 20) * lf          // NW North America warm
                    - 0.35 * blob(phi, lon, 32, -85, 6, 12) * lf                 // SE United States cool
                    + 0.4 * blob(phi, lon, -5, -60, 8, 15) * lf                  // northern South America warm
                    + 0.3 * blob(phi, lon, -20, 28, 8, 12) * lf                  // southern Africa warm
                ensoRaw[c] = tongue + horseshoe + tele
                // Lagged imprint: tropical warming (Indian Ocean, tropical Atlantic, land),
                // weaker in the extratropics, excluding the ENSO tongue itself.
                lagRaw[c] = (1 - min(1, 1.5 * prof * exp(-0.5 * pow(phi / 12, 2)))) * (0.25 + exp(-0.5 * pow(phi / 20, 2)))
                // Atlantic: subpolar gyre and tropical North Atlantic, weaker over land.
                amvRaw[c] = (blob(phi, lon, 55, -35, 10, 22) + 0.6 * blob(phi, lon, 15, -40, 10, 28)
                    + 0.3 * blob(phi, lon, 35, -45, 10, 30)) * (1 - 0.5 * lf)
            }
        }
        let boxMean = Patterns.regionMean(ensoRaw, grid: grid, region: .nino34)
        enso = ensoRaw.map { Float($0 / boxMean) }
        ensoLagged = normalised(lagRaw, to: p.ensoGlobalImprint)
        let amvMax = amvRaw.max() ?? 1
        atlantic = amvRaw.map { Float($0 / max(amvMax, 1e-12) * p.atlanticAmplitude) }

        // Weather noise amplitude (annual-mean SD grows ∝ sin²φ; land larger with a winter
        // maximum) and persistence (ocean longer than land).
        var amp = [Float](repeating: 0, count: 12 * n)
        var a = [Float](repeating: 0, count: n), b = a
        for j in 0..<nlat {
            let phi = grid.latitudes[j], s2 = pow(sin(phi * deg), 2)
            let hemisphere = tanh(phi / 8)
            let extratropical = smoothStep((abs(phi) - 20) / 30)
            for i in 0..<nlon {
                let c = j * nlon + i, lf = Double(land[c])
                let ocean = p.oceanNoiseEquator + p.oceanNoisePolar * s2
                let landSD = p.landNoiseEquator + p.landNoisePolar * s2
                for m in 0..<12 {
                    // Winter (January north, July south) maximum over extratropical land.
                    let winter = hemisphere * cos(2 * Double.pi * Double(m) / 12)
                    let landM = landSD * (1 + p.landNoiseSeasonality * extratropical * winter)
                    amp[m * n + c] = Float((1 - lf) * ocean + lf * landM)
                }
                let r = (1 - lf) * p.oceanPersistence + lf * p.landPersistence
                a[c] = Float(r)
                b[c] = Float((1 - r * r).squareRoot())
            }
        }
        noiseAmplitude = amp
        persistence = a
        innovation = b
    }

    /// Area-weighted mean of `field` (row-major lat × lon) over `region`, partly covered
    /// cells weighted by their overlap.
    static func regionMean(_ field: [Double], grid: Grid, region: Region) -> Double {
        // Every simulator grid is global, so Niño3.4 always overlaps it.
        guard let w = try? region.weights(on: grid) else { return 0 }
        return zip(w, field).reduce(0) { $0 + $1.0 * $1.1 }
    }
}

/// Smooth step: 0 for x ≤ 0, 1 for x ≥ 1, 3x² − 2x³ between.
@inline(__always) func smoothStep(_ x: Double) -> Double {
    let t = min(max(x, 0), 1)
    return t * t * (3 - 2 * t)
}
