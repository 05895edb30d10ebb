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
}
