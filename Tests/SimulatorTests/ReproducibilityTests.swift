import Climate
import XCTest
@testable import Simulator

final class ReproducibilityTests: XCTestCase {
    func testMemberDependsOnlyOnSeedAndIndex() throws {
        let grid = Grid.regular(latitudeCount: 16, longitudeCount: 32)
        let parallel = try EnsembleSimulator(configuration: SimulatorConfiguration(grid: grid, startYear: 1990, endYear: 1993, seed: 7))
        let serial = try EnsembleSimulator(configuration: SimulatorConfiguration(grid: grid, startYear: 1990, endYear: 1993, seed: 7,
                                                                                 threadCount: 1))
        let alone = parallel.member(3)
        // Computed among others, in another order, on one thread: bit-identical.
        let batch = (0..<5).reversed().map { serial.member($0) }
        XCTAssertEqual(alone, batch[1])
        var buffer = [Float](repeating: .nan, count: parallel.valuesPerMember)
        buffer.withUnsafeMutableBufferPointer { parallel.member(3, into: $0) }
        XCTAssertEqual(alone, buffer)
        // Different members and different seeds differ.
        XCTAssertNotEqual(alone, batch[0])
        let other = try EnsembleSimulator(configuration: SimulatorConfiguration(grid: grid, startYear: 1990, endYear: 1993, seed: 8))
        XCTAssertNotEqual(alone, other.member(3))
        XCTAssertEqual(alone.count, 48 * grid.cellCount)
        XCTAssertTrue(alone.allSatisfy { $0.isFinite && $0 > 180 && $0 < 340 })
    }

    /// 96×192 works (one year here to keep the debug test short); memory is one member.
    func testHighResolutionMember() throws {
        let grid = Grid.regular(latitudeCount: 96, longitudeCount: 192)
        let sim = try EnsembleSimulator(configuration: SimulatorConfiguration(grid: grid, startYear: 1991, endYear: 1991, seed: 3))
        let m = sim.member(5)
        XCTAssertEqual(m.count, 12 * grid.cellCount)
        XCTAssertTrue(m.allSatisfy { $0.isFinite && $0 > 180 && $0 < 340 })
    }

    func testTimeAxisMatchesMonths() throws {
        let grid = Grid.regular(latitudeCount: 8, longitudeCount: 16)
        let sim = try EnsembleSimulator(configuration: SimulatorConfiguration(grid: grid, startYear: 1999, endYear: 2001,
                                                                              calendar: .noLeap))
        XCTAssertEqual(sim.timeAxis.count, 36)
        XCTAssertEqual(sim.timeAxis.calendar, .noLeap)
        XCTAssertEqual(sim.timeAxis.monthsOfYear, sim.months.map(\.month))
        XCTAssertEqual(sim.timeAxis.years, sim.months.map(\.year))
        XCTAssertEqual(sim.forcing.time.count, 36)
        XCTAssertEqual(sim.forcedResponse.surface.count, 36)
    }

    func testRejectsInvalidConfiguration() {
        let grid = Grid.regular(latitudeCount: 8, longitudeCount: 16)
        XCTAssertThrowsError(try EnsembleSimulator(configuration: SimulatorConfiguration(grid: grid, startYear: 2000, endYear: 1999)))
        XCTAssertThrowsError(try EnsembleSimulator(configuration: SimulatorConfiguration(grid: grid, threadCount: 0)))
        var p = SimulatorParameters()
        p.oceanPersistence = 1
        XCTAssertThrowsError(try EnsembleSimulator(configuration: SimulatorConfiguration(grid: grid, parameters: p)))
    }
}
