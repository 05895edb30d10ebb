import Climate
import XCTest
@testable import Simulator

/// Future forcing scenarios: historical behaviour unchanged, the switch to an SSP in 2015,
/// the published 2100 values, and a short ssp585 simulation.
final class ScenarioForcingTests: XCTestCase {
    static let ssps: [ForcingScenario] = [.ssp126, .ssp245, .ssp585]

    /// The `historical` scenario is the forcing of the existing tables, reference values
    /// written out from them (including the extrapolation after 2020).
    func testHistoricalForcingUnchanged() {
        for t in [1850.0, 1963.5, 1995.0, 2014.0, 2030.0, 2100.0] {
            XCTAssertEqual(Forcing.carbonDioxide(at: t, scenario: .historical), Forcing.carbonDioxide(at: t))
            XCTAssertEqual(Forcing.otherGreenhouseGases(at: t, scenario: .historical), Forcing.otherGreenhouseGases(at: t))
            XCTAssertEqual(Forcing.aerosol(at: t, scenario: .historical), Forcing.aerosol(at: t))
            XCTAssertEqual(Forcing.co2Concentration(at: t, scenario: .historical), Forcing.co2Concentration(at: t))
        }
        // Table nodes and the documented extrapolation (+2.4 ppm/yr, other agents held).
        XCTAssertEqual(Forcing.carbonDioxide(at: 2010, scenario: .historical), 5.35 * log(389.9 / 278), accuracy: 1e-12)
        XCTAssertEqual(Forcing.co2Concentration(at: 2015, scenario: .historical), 0.5 * (389.9 + 412.1), accuracy: 1e-12)
        XCTAssertEqual(Forcing.carbonDioxide(at: 2030, scenario: .historical), 5.35 * log((412.1 + 24) / 278), accuracy: 1e-12)
        XCTAssertEqual(Forcing.otherGreenhouseGases(at: 2015, scenario: .historical), 1.25, accuracy: 1e-12)
        XCTAssertEqual(Forcing.otherGreenhouseGases(at: 2060, scenario: .historical), 1.30, accuracy: 1e-12)
        XCTAssertEqual(Forcing.aerosol(at: 1960, scenario: .historical), -0.65, accuracy: 1e-12)
        XCTAssertEqual(Forcing.aerosol(at: 2060, scenario: .historical), -0.80, accuracy: 1e-12)
        // The monthly series: the default is historical and bit-identical to an explicit one.
        let a = ForcingHistory(startYear: 1990, endYear: 2040)
        let b = ForcingHistory(startYear: 1990, endYear: 2040, scenario: .historical)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.scenario, .historical)
        XCTAssertNil(ForcingScenario.historical.lastYear)
    }

    /// Every SSP is the historical forcing up to 1 January 2015, month for month.
    func testScenariosEqualHistoricalBefore2015() {
        let hist = ForcingHistory(startYear: 1850, endYear: 2014)
        for s in Self.ssps {
            let h = ForcingHistory(startYear: 1850, endYear: 2014, scenario: s)
            XCTAssertEqual(h.agents.map(\.values), hist.agents.map(\.values), "\(s)")
            XCTAssertEqual(h.co2Concentration, hist.co2Concentration, "\(s)")
            XCTAssertEqual(Forcing.carbonDioxide(at: 2015, scenario: s), Forcing.carbonDioxide(at: 2015))
            XCTAssertEqual(s.lastYear, 2100)
        }
    }

    /// No jump at the switch: at the instant level the forcing is continuous, and the monthly
    /// step December 2014 → January 2015 is no larger than a month of the 2015–2020 bridge.
    func testContinuityAtTheSwitch() {
        let t0 = Forcing.scenarioBranchTime
        for s in Self.ssps {
            guard let p = s.pathway else { return XCTFail("\(s) has no pathway") }
            let pairs: [(String, (Double) -> Double, (Double) -> Double)] = [
                ("co2", { Forcing.carbonDioxide(at: $0, scenario: s) }, { Forcing.carbonDioxide(at: $0) }),
                ("other", { Forcing.otherGreenhouseGases(at: $0, scenario: s) }, { Forcing.otherGreenhouseGases(at: $0) }),
                ("aerosol", { Forcing.aerosol(at: $0, scenario: s) }, { Forcing.aerosol(at: $0) }),
                ("ppm", { Forcing.co2Concentration(at: $0, scenario: s) }, { Forcing.co2Concentration(at: $0) }),
            ]
            for (name, scen, hist) in pairs {
                XCTAssertEqual(scen(t0), hist(t0), "\(s) \(name)")
                // Linear bridge: a change of at most |slope| · 1e-6 yr (slopes < 10 units/yr).
                XCTAssertEqual(scen(t0 + 1e-6), hist(t0), accuracy: 1e-5, "\(s) \(name)")
            }
            // Largest slope of the total on the bridge, W m-2 per month.
            let bridge = p.carbonDioxide[0] + p.otherGreenhouseGases[0] + p.aerosol[0]
            let start = Forcing.carbonDioxide(at: t0) + Forcing.otherGreenhouseGases(at: t0) + Forcing.aerosol(at: t0)
            let perMonth = abs(bridge - start) / (p.years[0] - t0) / 12
            let h = ForcingHistory(startYear: 2013, endYear: 2016, scenario: s)
            let hh = ForcingHistory(startYear: 2013, endYear: 2016)
            let dec2014 = 23, jan2015 = 24
            let step = h.nonVolcanic[jan2015] - h.nonVolcanic[dec2014]
            let histStep = hh.nonVolcanic[jan2015] - hh.nonVolcanic[dec2014]
            // December is historical in both; January's samples lie on average half a month
            // after the switch, so the steps differ by half a month of (bridge slope −
            // historical slope), less than a month of the bridge slope (solar is common).
            XCTAssertLessThanOrEqual(abs(step - histStep), perMonth + 1e-9, "\(s)")
            XCTAssertLessThan(abs(step), 0.02, "\(s): \(step) W m-2 in one month")
        }
    }

    /// SSP5-8.5 in 2100: the components summed as the simulator does equal the table's own
    /// total anthropogenic ERF (10.01 W m-2) within its rounding: 11 components rounded to
    /// 0.01 (± 0.005 each) and the total rounded separately (± 0.005): 0.06 W m-2.
    func testSSP585ReachesPublishedForcingIn2100() throws {
        let p = try XCTUnwrap(ForcingScenario.ssp585.pathway)
        XCTAssertEqual(p.years.last, 2100)
        XCTAssertEqual(p.publishedTotalAnthropogenic.last, 10.01)
        let anthropogenic = Forcing.carbonDioxide(at: 2100, scenario: .ssp585)
            + Forcing.otherGreenhouseGases(at: 2100, scenario: .ssp585) + Forcing.aerosol(at: 2100, scenario: .ssp585)
        XCTAssertEqual(anthropogenic, 10.01, accuracy: 0.06)
        XCTAssertEqual(Forcing.carbonDioxide(at: 2100, scenario: .ssp585), 8.38, accuracy: 1e-12)
        XCTAssertEqual(Forcing.co2Concentration(at: 2100, scenario: .ssp585), 1135.2, accuracy: 1e-9)
        // Monthly series of the year 2100: the anthropogenic part is held at the 2100 node;
        // solar adds at most half its peak-to-peak; no volcanic forcing.
        let h = ForcingHistory(startYear: 2100, endYear: 2100, scenario: .ssp585)
        let total = Stats.mean(h.total)
        XCTAssertEqual(total, 10.01, accuracy: 0.06 + Forcing.solarPeakToPeak / 2)
        XCTAssertLessThan(h.volcanic.map(abs).max() ?? 1, 1e-12)
        // Every node of every SSP: the summed components match the published totals.
        for s in Self.ssps {
            let q = try XCTUnwrap(s.pathway)
            for i in q.years.indices {
                let sum = q.carbonDioxide[i] + q.otherGreenhouseGases[i] + q.aerosol[i]
                XCTAssertEqual(sum, q.publishedTotalAnthropogenic[i], accuracy: 0.06, "\(s) \(q.years[i])")
            }
        }
    }

    func testScenarioOrderingIn2100() {
        func anthropogenic(_ s: ForcingScenario) -> Double {
            Forcing.carbonDioxide(at: 2100, scenario: s) + Forcing.otherGreenhouseGases(at: 2100, scenario: s)
                + Forcing.aerosol(at: 2100, scenario: s)
        }
        let f126 = anthropogenic(.ssp126), f245 = anthropogenic(.ssp245), f585 = anthropogenic(.ssp585)
        // Published: 3.10, 5.40, 10.01 W m-2; the gaps dwarf the 0.06 rounding.
        XCTAssertGreaterThan(f585, f245 + 1)
        XCTAssertGreaterThan(f245, f126 + 1)
        XCTAssertGreaterThan(Forcing.co2Concentration(at: 2100, scenario: .ssp585),
                             Forcing.co2Concentration(at: 2100, scenario: .ssp245))
        XCTAssertGreaterThan(Forcing.co2Concentration(at: 2100, scenario: .ssp245),
                             Forcing.co2Concentration(at: 2100, scenario: .ssp126))
    }

    /// A short SSP5-8.5 run warms: ensemble-mean global mean 2090–2100 minus 1995–2014.
    /// Expected: the EBM's difference (about 4.5 K). Tolerance from the run itself: the SD
    /// of the annual global-mean residual about the forced response, s, gives the SD of the
    /// difference of an 11-year and a 20-year mean over M members as
    /// s·√(1/11 + 1/20)/√M (years treated as independent; ENSO decorrelates within a year);
    /// 5 of those plus 0.05 K for the slow Atlantic mode.
    func testSSP585SimulationWarms() throws {
        let grid = Grid.regular(latitudeCount: 8, longitudeCount: 16)
        let sim = try EnsembleSimulator(configuration: SimulatorConfiguration(
            grid: grid, startYear: 1995, endYear: 2100, seed: 7, threadCount: 1, scenario: .ssp585))
        let years = Array(1995...2100)
        func annual(_ monthly: [Double]) -> [Double] {
            years.indices.map { Stats.mean(Array(monthly[(12 * $0)..<(12 * $0 + 12)])) }
        }
        func change(_ y: [Double]) -> Double {
            Stats.mean(Array(y[(2090 - 1995)...])) - Stats.mean(Array(y[0..<20]))
        }
        let forced = annual(sim.forcedResponse.surface)
        let members = 2
        var changes: [Double] = [], residuals: [Double] = []
        for k in 0..<members {
            // The climatology repeats every year, so annual means of the global mean differ
            // from the forced response only by a constant and internal variability.
            let gm = annual(Stats.globalMean(sim.member(k), grid: grid))
            changes.append(change(gm))
            let offset = Stats.mean(zip(gm, forced).map { $0 - $1 })
            residuals += zip(gm, forced).map { $0 - $1 - offset }
        }
        let simulated = Stats.mean(changes), expected = change(forced)
        let s = Stats.standardDeviation(residuals)
        let tolerance = 5 * s * (1.0 / 11 + 1.0 / 20).squareRoot() / Double(members).squareRoot() + 0.05
        XCTAssertGreaterThan(expected, 3.5, "EBM warming \(expected) K")
        XCTAssertEqual(simulated, expected, accuracy: tolerance, "annual residual SD \(s) K")
        XCTAssertGreaterThan(simulated, 3, "simulated warming \(simulated) K")
        // The historical forcing over the same years warms far less.
        let hist = try EnsembleSimulator(configuration: SimulatorConfiguration(
            grid: grid, startYear: 1995, endYear: 2100, seed: 7, threadCount: 1))
        XCTAssertLessThan(change(annual(hist.forcedResponse.surface)), expected - 1)
    }

    func testInvalidScenarioAndTooLateEnd() {
        XCTAssertNil(ForcingScenario(rawValue: "ssp999"))
        XCTAssertNil(ForcingScenario(rawValue: "rcp85"))
        XCTAssertEqual(ForcingScenario.allCases.map(\.rawValue), ["historical", "ssp126", "ssp245", "ssp585"])
        let grid = Grid.regular(latitudeCount: 4, longitudeCount: 8)
        XCTAssertThrowsError(try EnsembleSimulator(configuration: SimulatorConfiguration(
            grid: grid, startYear: 2000, endYear: 2101, scenario: .ssp126))) { error in
            guard case SimulatorError.invalidConfiguration(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("2100"), m)
        }
        XCTAssertNoThrow(try EnsembleSimulator(configuration: SimulatorConfiguration(
            grid: grid, startYear: 2099, endYear: 2100, scenario: .ssp126)))
        // Historical keeps its open end.
        XCTAssertNoThrow(try EnsembleSimulator(configuration: SimulatorConfiguration(
            grid: grid, startYear: 2199, endYear: 2200)))
    }
}
