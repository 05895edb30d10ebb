import XCTest
import RandomStreams
@testable import Climate

final class AnomalyNormalizationTests: XCTestCase {
    func members(_ grid: Grid, months: [Int], count: Int, seed: UInt64) -> [[Float]] {
        var random = RandomStream(seed: seed)
        return (0..<count).map { _ in
            (0..<(months.count * grid.cellCount)).map { i in
                let t = i / grid.cellCount, c = i % grid.cellCount
                return Float(270 + Double(c % 7) + 5 * sin(Double(months[t]) * 0.5) + (1 + Double(c % 3)) * random.gaussian())
            }
        }
    }

    func testRoundTripAndMoments() throws {
        let grid = Grid.regular(latitudeCount: 4, longitudeCount: 8)
        let months = (0..<36).map { $0 % 12 + 1 }
        let data = members(grid, months: months, count: 3, seed: 1)
        for scaling in AnomalyNormalization.Scaling.allCases {
            let n = try AnomalyNormalization.fit(members: data, monthsOfYear: months, grid: grid, scaling: scaling)
            let anomalies = data.map { n.normalize($0, monthsOfYear: months) }
            let back = n.denormalize(anomalies[0], monthsOfYear: months)
            XCTAssertLessThan(zip(back, data[0]).map { abs($0 - $1) }.max()!, 1e-4, "round trip \(scaling)")
            // Each calendar month's anomalies average to zero at every cell.
            for c in [0, 13] {
                let january = anomalies.flatMap { a in (0..<3).map { a[(12 * $0) * grid.cellCount + c] } }
                XCTAssertEqual(Double(january.reduce(0, +)) / 9, 0, accuracy: 1e-5)
            }
            if scaling == .perGridPoint {
                let values = anomalies.flatMap { a in (0..<36).map { Double(a[$0 * grid.cellCount + 5]) } }
                XCTAssertEqual(values.map { $0 * $0 }.reduce(0, +) / Double(values.count), 1, accuracy: 1e-4, "unit variance")
            } else {
                XCTAssertEqual(Set(n.scale).count, 1, "one global scale")
            }
        }
    }

    func testMissingValuesAreRejected() {
        let grid = Grid.regular(latitudeCount: 2, longitudeCount: 4)
        var member = [Float](repeating: 280, count: 12 * grid.cellCount)
        member[3] = .nan
        XCTAssertThrowsError(try AnomalyNormalization.fit(members: [member], monthsOfYear: Array(1...12), grid: grid,
                                                         scaling: .global, source: "in.nc")) {
            XCTAssertTrue("\($0)".contains("in.nc") && "\($0)".contains("missing"), "\($0)")
        }
        XCTAssertThrowsError(try AnomalyNormalization.fit(members: [Array(member.prefix(6 * grid.cellCount))],
                                                         monthsOfYear: [1, 2, 3, 4, 5, 13], grid: grid, scaling: .global))
    }

    /// Annual means (every step the same calendar month) have a one-row climatology.
    func testAnnualData() throws {
        let grid = Grid.regular(latitudeCount: 2, longitudeCount: 4)
        let months = [Int](repeating: 7, count: 10)
        let data = members(grid, months: months, count: 2, seed: 4)
        let n = try AnomalyNormalization.fit(members: data, monthsOfYear: months, grid: grid, scaling: .global)
        let back = n.denormalize(n.normalize(data[1], monthsOfYear: months), monthsOfYear: months)
        XCTAssertLessThan(zip(back, data[1]).map { abs($0 - $1) }.max()!, 1e-4)
        XCTAssertEqual(n.climatology[0], n.climatology[6 * grid.cellCount], accuracy: 1e-4, "absent months take the overall mean")
    }
}
