import XCTest
@testable import Climate

final class GridTests: XCTestCase {
    func testRegularGridWeights() {
        let g = Grid.regular(latitudeCount: 32, longitudeCount: 64)
        XCTAssertEqual(g.cellCount, 2048)
        XCTAssertEqual(g.areaWeights.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(g.latitudes.first!, -87.1875, accuracy: 1e-12)
        XCTAssertEqual(g.longitudes.first!, 2.8125, accuracy: 1e-12)
        // Weight ratio equator/pole row equals (sin φ₂ − sin φ₁) ratio of the exact band areas.
        let w = g.latitudeWeights
        let polar = sin(90 * Double.pi / 180) - sin(84.375 * Double.pi / 180)
        let equatorial = sin(5.625 * Double.pi / 180) - sin(0)
        XCTAssertEqual(w[16] / w[31], equatorial / polar, accuracy: 1e-12)
        XCTAssertTrue(g.isGlobalInLongitude)
    }

    func testDerivedBoundsAndValidation() throws {
        let g = try Grid(latitudes: [-60, 0, 60], longitudes: [0, 120, 240])
        XCTAssertEqual(g.latitudeBounds, [[-90, -30], [-30, 30], [30, 90]])
        XCTAssertEqual(g.longitudeBounds, [[-60, 60], [60, 180], [180, 300]])
        XCTAssertThrowsError(try Grid(latitudes: [10, 0], longitudes: [0, 1]))
        XCTAssertThrowsError(try Grid(latitudes: [], longitudes: [0]))
        XCTAssertTrue(g.matches(g))
        XCTAssertFalse(g.matches(Grid.regular(latitudeCount: 3, longitudeCount: 4)))
    }

    /// T63 (96 latitudes) against numpy.polynomial.legendre.leggauss(96): 88.5721685°,
    /// 86.7225310° and 0.9326300° nearest the equator; weights summing to 2 as edges in sin φ.
    func testGaussianGridMatchesPublishedLatitudes() throws {
        let g = try Grid.gaussian(latitudeCount: 96, longitudeCount: 192)
        XCTAssertEqual(g.latitudes[95], 88.5721685140073, accuracy: 1e-9)
        XCTAssertEqual(g.latitudes[94], 86.7225309546681, accuracy: 1e-9)
        XCTAssertEqual(g.latitudes[48], 0.9326299678380044, accuracy: 1e-9)
        XCTAssertEqual(g.latitudes[0], -g.latitudes[95], accuracy: 1e-12)
        XCTAssertEqual(g.latitudeBounds[0][0], -90, accuracy: 1e-9)
        XCTAssertEqual(g.latitudeBounds[95][1], 90, accuracy: 1e-9)
        XCTAssertEqual(g.areaWeights.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertTrue(g.isGlobal)
        XCTAssertFalse(g.hasRegularLatitudes)
        XCTAssertEqual(g.resolution.longitude, 1.875, accuracy: 1e-12)
        // Without bounds in the file the derived outer edges reach the poles.
        let derived = try Grid(latitudes: g.latitudes, longitudes: g.longitudes)
        XCTAssertEqual(derived.latitudeBounds[0][0], -90)
        XCTAssertEqual(derived.latitudeBounds[95][1], 90)
    }

    /// A 2.5° grid with pole points reports 2.5° (not the mean cell height 180/73) and is global.
    func testSpacingAndCoverage() throws {
        let poles = try Grid.withPolePoints(latitudeCount: 73, longitudeCount: 144)
        XCTAssertEqual(poles.latitudes.first, -90)
        XCTAssertEqual(poles.latitudes.last, 90)
        XCTAssertEqual(poles.resolution.latitude, 2.5, accuracy: 1e-12)
        XCTAssertEqual(poles.resolution.longitude, 2.5, accuracy: 1e-12)
        XCTAssertTrue(poles.hasRegularLatitudes)
        XCTAssertTrue(poles.isGlobal)
        XCTAssertEqual(poles.spacingDescription, "2.5° × 2.5°")
        XCTAssertEqual(poles.areaWeights.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertTrue(Grid.regular(latitudeCount: 45, longitudeCount: 90).isGlobal)

        // A tropical Pacific box and a European box crossing 0°: neither is global, and the
        // European box is described from 350° to 30°, not from 0° to 350°.
        let pacific = try Grid(latitudes: Array(stride(from: -20.0, through: 20, by: 2.5)),
                               longitudes: Array(stride(from: 120.0, through: 280, by: 2.5)))
        XCTAssertFalse(pacific.isGlobal)
        XCTAssertEqual(pacific.longitudeExtent.west, 120)
        XCTAssertEqual(pacific.longitudeExtent.east, 280)
        let europe = try Grid(latitudes: Array(stride(from: 35.0, through: 70, by: 2.5)),
                              longitudes: Array(stride(from: 0.0, through: 30, by: 2.5)) + Array(stride(from: 350.0, through: 357.5, by: 2.5)))
        XCTAssertFalse(europe.isGlobalInLongitude)
        XCTAssertFalse(europe.isGlobalInLatitude)
        XCTAssertEqual(europe.longitudeExtent.west, 350)
        XCTAssertEqual(europe.longitudeExtent.east, 30)
        XCTAssertEqual(europe.extentDescription, "latitudes 35…70, longitudes 350…30 (crossing 0°)")
        XCTAssertEqual(europe.resolution.longitude, 2.5, accuracy: 1e-12, "the spacing across 0°, not (357.5 − 0)/16")
        // A band from 60°S to 60°N is global in longitude only.
        let band = try Grid(latitudes: Array(stride(from: -58.75, through: 58.75, by: 2.5)),
                            longitudes: Array(stride(from: 1.25, through: 358.75, by: 2.5)))
        XCTAssertTrue(band.isGlobalInLongitude)
        XCTAssertFalse(band.isGlobalInLatitude)
    }
}
