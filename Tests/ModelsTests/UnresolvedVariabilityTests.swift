import Climate
import Foundation
import RandomStreams
import XCTest
@testable import Models

final class UnresolvedVariabilityTests: XCTestCase {
    func testLongitudeKernelHasUnitVarianceAndTheLagOneCorrelation() {
        for rho: Float in [0.05, 0.3, 0.6, 0.9, 0.97] {
            let k = UnresolvedVariability.longitudeKernel(lag1: rho, longitudes: 64).map(Double.init)
            XCTAssertEqual(k.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5, "ρ = \(rho)")
            XCTAssertEqual(zip(k, k.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }, Double(rho), accuracy: 1e-4, "ρ = \(rho)")
            XCTAssertLessThanOrEqual(k.count, 63)
        }
        XCTAssertEqual(UnresolvedVariability.longitudeKernel(lag1: -0.2, longitudes: 64), [1])
        XCTAssertEqual(UnresolvedVariability.longitudeKernel(lag1: 0, longitudes: 64), [1])
    }

    /// Noise drawn from known statistics and measured again by the estimator gives them back
    /// within sampling error: standard deviation by calendar month and cell (n = 300 draws
    /// each, relative standard error 1/√(2n) = 4.1%; every one of the 1 536 within 5 standard
    /// errors) and the longitude correlation of each row (pairs 300·12·16, of which at least
    /// a sixth independent even at ρ = 0.97: standard error ≤ 1/√9600 ≈ 0.01; tolerance 0.04),
    /// and its month-to-month correlation (the same count of pairs, standard error ≤ 0.01).
    func testEstimatorRecoversTheStatisticsItsNoiseWasDrawnFrom() throws {
        let grid = Grid.regular(latitudeCount: 8, longitudeCount: 16)
        let cells = grid.cellCount
        // Constant along each row so that the row correlation is exactly the filter's.
        let sd = (0..<(12 * cells)).map { Float(0.1 + 0.02 * Double($0 / cells) + 0.05 * Double(($0 % cells) / 16)) }
        let rho: [Float] = [0, 0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.97]
        let monthRho: [Float] = [0, 0.2, 0.5, 0.8, 0, 0.1, 0.3, 0.6]
        let truth = UnresolvedVariability(grid: grid, standardDeviation: sd, longitudeCorrelation: rho, monthCorrelation: monthRho)
        let years = 300, months = (0..<(12 * years)).map { $0 % 12 + 1 }
        var noise = [Float](repeating: 0, count: months.count * cells)
        var random = RandomStream(seed: 11)
        truth.addNoise(to: &noise, monthsOfYear: months, random: &random)
        var estimator = UnresolvedVariability.Estimator(grid: grid)
        // Fed as original − reconstruction with a nonzero reconstruction, in two "members".
        let half = 6 * years * cells
        let offset = (0..<half).map { Float($0 % 7) - 3 }
        estimator.add(original: zip(noise[..<half], offset).map { $0 + $1 }, reconstruction: offset,
                      monthsOfYear: Array(months[..<(6 * years)]))
        estimator.add(original: Array(noise[half...]), reconstruction: Array(repeating: 0, count: half),
                      monthsOfYear: Array(months[(6 * years)...]))
        let measured = try estimator.estimate()
        let tolerance = 5 / (2.0 * Double(years)).squareRoot()
        for index in 0..<(12 * cells) {
            XCTAssertEqual(Double(measured.standardDeviation[index] / sd[index]), 1, accuracy: tolerance, "month \(index / cells), cell \(index % cells)")
        }
        for (row, expected) in rho.enumerated() {
            XCTAssertEqual(measured.longitudeCorrelation[row], expected, accuracy: 0.04, "row \(row)")
            XCTAssertEqual(measured.monthCorrelation[row], monthRho[row], accuracy: 0.04, "row \(row)")
        }
    }

    func testRoundTripAndErrors() throws {
        let grid = Grid.regular(latitudeCount: 4, longitudeCount: 8)
        let statistics = UnresolvedVariability(grid: grid, standardDeviation: (0..<(12 * 32)).map { Float($0) / 100 },
                                               longitudeCorrelation: [0.1, 0.2, 0.3, 0.4], monthCorrelation: [0.5, 0.4, 0.3, 0.2],
                                               provenance: ["members": "1-29"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("unresolved-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try statistics.save(to: path)
        let loaded = try UnresolvedVariability.load(path)
        XCTAssertEqual(loaded.standardDeviation.map(\.bitPattern), statistics.standardDeviation.map(\.bitPattern))
        XCTAssertEqual(loaded.longitudeCorrelation, statistics.longitudeCorrelation)
        XCTAssertEqual(loaded.monthCorrelation, statistics.monthCorrelation)
        XCTAssertEqual(loaded.provenance, ["members": "1-29"])
        XCTAssertEqual(loaded.grid.latitudes, grid.latitudes)
        var estimator = UnresolvedVariability.Estimator(grid: grid)
        estimator.add(original: Array(repeating: 1, count: 12 * 32), reconstruction: Array(repeating: 0, count: 12 * 32),
                      monthsOfYear: Array(1...12))
        XCTAssertThrowsError(try estimator.estimate()) { XCTAssertTrue("\($0)".contains("at least two fields"), "\($0)") }
        // Annual data (every field in July): the other months take July's statistics.
        var annual = UnresolvedVariability.Estimator(grid: grid)
        let values: [Float] = (0..<(5 * 32)).map { index in let k = Float(index / 32); return k * k }
        annual.add(original: values, reconstruction: Array(repeating: 0, count: 5 * 32), monthsOfYear: Array(repeating: 7, count: 5))
        let july = try annual.estimate()
        // The values 0, 1, 4, 9, 16 at every cell: sample variance 174 / 4.
        for value in july.standardDeviation { XCTAssertEqual(Double(value), 43.5.squareRoot(), accuracy: 1e-5) }
    }
}
