import Climate
import XCTest
@testable import Simulator

final class LandMaskTests: XCTestCase {
    func testContinentsAreWhereTheyBelong() {
        let land: [(String, Double, Double)] = [
            ("Sahara", 10, 20), ("Siberia", 100, 62), ("Europe", 10, 50), ("India", 78, 20),
            ("Amazon", 300, -5), ("Argentina", 295, -35), ("Australia", 134, -25), ("Canada", 260, 55),
            ("United States", 265, 40), ("Antarctica", 0, -80), ("Greenland", 318, 73), ("Congo", 22, -2),
        ]
        for (name, lon, lat) in land { XCTAssertTrue(LandMask.isLand(longitude: lon, latitude: lat), name) }
        let ocean: [(String, Double, Double)] = [
            ("Niño3.4 centre", 215, 0), ("equatorial Atlantic", 335, 0), ("Indian Ocean", 80, -20),
            ("North Pacific", 180, 40), ("Southern Ocean", 90, -55), ("North Atlantic", 325, 45),
            ("South Pacific", 230, -30), ("Arctic Ocean", 0, 88),
        ]
        for (name, lon, lat) in ocean { XCTAssertFalse(LandMask.isLand(longitude: lon, latitude: lat), name) }
    }

    func testLandFractionAtCoarseResolution() {
        let grid = Grid.regular(latitudeCount: 32, longitudeCount: 64)
        let f = LandMask.landFraction(on: grid)
        XCTAssertEqual(f.count, grid.cellCount)
        XCTAssertTrue(f.allSatisfy { (0...1).contains($0) })
        let area = zip(f, grid.areaWeights).reduce(0) { $0 + Double($1.0) * $1.1 }
        XCTAssertTrue((0.25...0.35).contains(area), "land area fraction \(area) (Earth: 0.29)")
        // The whole equatorial Pacific 170°W–120°W, 10°S–10°N is ocean.
        for j in 0..<grid.latitudeCount where abs(grid.latitudes[j]) < 10 {
            for i in 0..<grid.longitudeCount where (185...245).contains(grid.longitudes[i]) {
                XCTAssertEqual(f[j * grid.longitudeCount + i], 0)
            }
        }
    }
}

final class ClimatologyTests: XCTestCase {
    func testClimatologyShape() throws {
        let grid = Grid.regular(latitudeCount: 32, longitudeCount: 64)
        let sim = try EnsembleSimulator(configuration: SimulatorConfiguration(grid: grid, startYear: 2000, endYear: 2000))
        let clim = sim.climatology, n = grid.cellCount, w = grid.areaWeights, land = sim.landFraction
        let gm = (0..<12).map { m in (0..<n).reduce(0.0) { $0 + w[$1] * Double(clim[m * n + $1]) } }
        let annual = gm.reduce(0, +) / 12
        XCTAssertTrue((285...289).contains(annual), "global annual mean \(annual) K (observed ≈ 287 K)")
        func cell(_ lat: Double, _ lon: Double) -> Int {
            let j = grid.latitudes.indices.min { abs(grid.latitudes[$0] - lat) < abs(grid.latitudes[$1] - lat) } ?? 0
            let i = grid.longitudes.indices.min { abs(grid.longitudes[$0] - lon) < abs(grid.longitudes[$1] - lon) } ?? 0
            return j * grid.longitudeCount + i
        }
        let siberia = cell(60, 100), southernOcean = cell(-56, 90), northPacific = cell(50, 185)
        XCTAssertGreaterThan(land[siberia], 0.9)
        XCTAssertLessThan(land[northPacific], 0.01)
        // Opposite phase: July warmer than January in the north, colder in the south.
        XCTAssertGreaterThan(clim[6 * n + siberia] - clim[siberia], 30)
        XCTAssertLessThan(clim[6 * n + southernOcean] - clim[southernOcean], 0)
        // Larger over land than over ocean at the same latitude.
        XCTAssertGreaterThan(clim[6 * n + siberia] - clim[siberia], 3 * (clim[7 * n + northPacific] - clim[1 * n + northPacific]))
        // Tropics warmer than poles, Antarctica the coldest.
        XCTAssertGreaterThan(clim[cell(0, 200)], 295)
        let pole = cell(-88, 0)
        XCTAssertLessThan((0..<12).reduce(0.0) { $0 + Double(clim[$1 * n + pole]) } / 12, 240)
    }
}

final class NoiseSmootherTests: XCTestCase {
    /// Separable smoothing equals the direct 2-D sum with the same weights.
    func testMatchesDirectConvolution() throws {
        let grid = Grid.regular(latitudeCount: 12, longitudeCount: 24)
        let s = try NoiseSmoother(grid: grid, lengthScale: 1500)
        let n = grid.cellCount, nlon = grid.longitudeCount
        let input = (0..<n).map { Float(sin(Double($0) * 1.7) + cos(Double($0 * $0) * 0.01)) }
        var out = [Float](repeating: 0, count: n), scratch = [Float](repeating: 0, count: s.scratchCount)
        input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                scratch.withUnsafeMutableBufferPointer { sc in s.smooth(i.baseAddress!, into: o.baseAddress!, scratch: sc.baseAddress!) }
            }
        }
        for c in 0..<n {
            var ref = 0.0, sumSquares = 0.0
            for src in 0..<n {
                let w = Double(s.weight(outputRow: c / nlon, column: c % nlon, sourceRow: src / nlon, column: src % nlon))
                ref += w * Double(input[src])
                sumSquares += w * w
            }
            XCTAssertEqual(Double(out[c]), ref, accuracy: 1e-5)
            // Unit variance for white-noise input: the squared weights sum to 1.
            XCTAssertEqual(sumSquares, 1, accuracy: 1e-5, "cell \(c)")
        }
    }

    /// Correlation between points ℓ = 1500 km apart should be ≈ e^{−1/2} = 0.61 along a
    /// meridian and along the equator; discretisation of the kernel at 1.875° gives a few
    /// hundredths of error, hence the 0.08 tolerance.
    func testCorrelationLength() throws {
        let grid = Grid.regular(latitudeCount: 96, longitudeCount: 192)
        let s = try NoiseSmoother(grid: grid, lengthScale: 1500)
        let nlon = grid.longitudeCount
        func correlation(_ a: (Int, Int), _ b: (Int, Int)) -> Double {
            var r = 0.0
            for k in max(0, a.0 - 20)..<min(grid.latitudeCount, a.0 + 20) {
                for m in 0..<nlon {
                    r += Double(s.weight(outputRow: a.0, column: a.1, sourceRow: k, column: m))
                        * Double(s.weight(outputRow: b.0, column: b.1, sourceRow: k, column: m))
                }
            }
            return r
        }
        let kmPerDegree = 6371.0 * .pi / 180
        let cells = 1500 / kmPerDegree / 1.875                       // ≈ 7.2 cells
        let d = Int(cells.rounded()), expected = exp(-0.5 * pow(Double(d) / cells, 2))
        XCTAssertEqual(correlation((48, 10), (48 + d, 10)), expected, accuracy: 0.08)
        XCTAssertEqual(correlation((48, 10), (48, 10 + d)), expected, accuracy: 0.08)
        // At 60°N the same distance spans twice as many longitude cells.
        XCTAssertEqual(correlation((80, 10), (80, 10 + 2 * d)), expected, accuracy: 0.08)
        // Far apart: uncorrelated.
        XCTAssertEqual(correlation((48, 10), (48, 10 + 6 * d)), 0, accuracy: 0.01)
    }

    func testRejectsRegionalGrid() throws {
        let g = try Grid(latitudes: [0, 1, 2], longitudes: [10, 11, 12])
        XCTAssertThrowsError(try NoiseSmoother(grid: g, lengthScale: 1500))
    }
}
