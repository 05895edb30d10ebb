import Climate
import XCTest
@testable import Simulator

/// The statistical contract of the synthetic ensemble (Docs/simulator.md), checked on a
/// 10-member, 1850–2005, 32×64 ensemble with a fixed seed. 10 members keep the debug-build
/// test near 20 s of CPU; each tolerance below states why 10 members suffice.
final class EnsembleStatisticsTests: XCTestCase {
    struct Fixture {
        let simulator: EnsembleSimulator
        let globalMean: [[Double]]      // per member, monthly, K
        let nino34: [[Double]]          // per member, monthly climatology removed, K
        let moments: AnomalyMoments     // grid-point anomalies 1850–1899
        let memberCount: Int
    }

    static let fixture: Fixture = {
        let grid = Grid.regular(latitudeCount: 32, longitudeCount: 64)
        // Safe: a valid, fixed configuration.
        let sim = try! EnsembleSimulator(configuration: SimulatorConfiguration(grid: grid, startYear: 1850, endYear: 2005, seed: 2024))
        let n = 10, head = 600 * grid.cellCount
        var gm = [[Double]](), nino = [[Double]](), early = [[Float]]()
        for k in 0..<n {
            let m = sim.member(k)
            gm.append(Stats.globalMean(m, grid: grid))
            nino.append(Stats.nino34(m, grid: grid))
            early.append(Array(m[0..<head]))
        }
        return Fixture(simulator: sim, globalMean: gm, nino34: nino,
                       moments: AnomalyMoments(members: early, cells: grid.cellCount), memberCount: n)
    }()

    static func month(_ year: Int, _ month: Int = 1) -> Int { (year - 1850) * 12 + month - 1 }

    /// Ensemble-mean global-mean anomaly (monthly climatology of the ensemble mean removed).
    var ensembleMeanAnomaly: [Double] {
        let f = Self.fixture
        let em = f.globalMean[0].indices.map { t in f.globalMean.reduce(0) { $0 + $1[t] } / Double(f.memberCount) }
        return Stats.removeMonthlyClimatology(em)
    }

    func testWarmingSincePreindustrial() {
        let f = Self.fixture, a = ensembleMeanAnomaly
        let warming = Stats.mean(Array(a[Self.month(1986)..<Self.month(2006)])) - Stats.mean(Array(a[Self.month(1850)..<Self.month(1901)]))
        XCTAssertTrue((0.4...1.0).contains(warming), "warming 1850–1900 → 1986–2005: \(warming) K")
        // The forced pattern has area mean 1, so the ensemble-mean global mean follows the
        // EBM. Internal global-mean SD ≈ 0.2 K monthly, decorrelating in ~6 months: a
        // 20-year mean of a 10-member mean has SE ≈ 0.2/√10/√(240/12) ≈ 0.014 K; 0.05 ≈ 3.5 SE.
        let T = f.simulator.forcedResponse.surface
        let ebm = Stats.mean(Array(T[Self.month(1986)..<Self.month(2006)])) - Stats.mean(Array(T[Self.month(1850)..<Self.month(1901)]))
        XCTAssertEqual(warming, ebm, accuracy: 0.05)
    }

    /// The exact ensemble mean (climatology + forced response) agrees with the sample mean:
    /// the monthly global-mean difference has SD ≈ 0.2/√10 ≈ 0.063 K (internal GM noise),
    /// and its average over 1872 months (≈ 150 independent values) has SE ≈ 0.005 K.
    func testExactEnsembleMean() {
        let f = Self.fixture
        let exact = Stats.globalMean(f.simulator.ensembleMean(), grid: f.simulator.grid)
        let diff = exact.indices.map { t in f.globalMean.reduce(0) { $0 + $1[t] } / Double(f.memberCount) - exact[t] }
        XCTAssertEqual(Stats.mean(diff), 0, accuracy: 0.02)
        let rms = (diff.reduce(0) { $0 + $1 * $1 } / Double(diff.count)).squareRoot()
        XCTAssertTrue((0.04...0.09).contains(rms), "RMS of sample − exact ensemble mean: \(rms) K")
    }

    /// Cooling relative to the mean of the 12 months before the eruption month.
    func dip(_ series: [Double], eruption e: Int, months: Range<Int>) -> [Double] {
        let before = Stats.mean(Array(series[(e - 12)..<e]))
        return months.map { series[e + $0] - before }
    }

    func testVolcanicCooling() {
        let f = Self.fixture, a = ensembleMeanAnomaly
        let pinatubo = Self.month(1991, 6)
        let response = dip(a, eruption: pinatubo, months: 0..<48)
        let peak = response.min() ?? 0
        let when = response.firstIndex(of: peak) ?? 99
        // Ensemble-mean monthly noise ≈ 0.2/√10 ≈ 0.063 K, so the minimum of 24 noisy months
        // is biased low by ≲ 0.1 K; the forced peak (≈ 0.35 K) sits well inside 0.2–0.6.
        XCTAssertTrue((0.2...0.6).contains(-peak), "Pinatubo peak cooling \(-peak) K")
        XCTAssertLessThan(when, 24, "Pinatubo peak cooling \(when) months after the eruption")

        // Krakatoa and Agung: the mean over months 3–20 after the eruption must be a dip
        // significant at 2 standard errors, where the SE is the spread across members of the
        // same statistic divided by √N (estimated from the data, not assumed).
        for (name, e) in [("Krakatoa", Self.month(1883, 8)), ("Agung", Self.month(1963, 3))] {
            let perMember = f.globalMean.map { Stats.mean(dip(Stats.removeMonthlyClimatology($0), eruption: e, months: 3..<21)) }
            let mean = Stats.mean(perMember)
            let se = Stats.standardDeviation(perMember) / Double(f.memberCount).squareRoot()
            XCTAssertLessThan(mean, -2 * se, "\(name): dip \(mean) K, SE \(se) K")
            XCTAssertLessThan(mean, -0.1, "\(name): dip \(mean) K")
            // …and agree with the EBM's noise-free dip within 3 SE.
            let ebm = Stats.mean(dip(f.simulator.forcedResponse.surface, eruption: e, months: 3..<21))
            XCTAssertEqual(mean, ebm, accuracy: 3 * se, name)
        }
    }

    func testNino34Statistics() {
        let f = Self.fixture
        // SD: each 156-year member has ~190 independent ENSO samples (decorrelation ~10
        // months), SE ≈ SD/√(2·190) ≈ 5 %; the 0.6–1.3 band is > 5 SE from a 0.95 K mean.
        for (k, x) in f.nino34.enumerated() {
            let sd = Stats.standardDeviation(x)
            XCTAssertTrue((0.6...1.3).contains(sd), "member \(k): Niño3.4 SD \(sd) K")
        }
        // Spectral peak of the member-averaged periodogram, smoothed over 5 frequencies:
        // 10 × 5 × 2 = 100 degrees of freedom, relative SE ≈ 14 %, while the spectrum
        // falls by a factor > 2 from the peak to 2.5 or 7 years.
        let n = f.nino34[0].count
        var power = [Double](repeating: 0, count: n / 2)
        for x in f.nino34 { for (i, p) in Stats.periodogram(x).enumerated() { power[i] += p } }
        var best = 2, bestPower = 0.0
        for i in 2..<(power.count - 2) {
            let s = power[(i - 2)...(i + 2)].reduce(0, +)
            if s > bestPower { bestPower = s; best = i }
        }
        let period = Double(n) / Double(best + 1) / 12
        XCTAssertTrue((2.5...7).contains(period), "Niño3.4 spectral peak \(period) years")
        // Phase locking: variance by calendar month pooled over members (1560 values per
        // month, relative SE of a variance ≈ √(2/1560) ≈ 3.6 %); the maximum must fall in
        // November–January.
        var monthVariance = [Double](repeating: 0, count: 12)
        for x in f.nino34 { for t in x.indices { monthVariance[t % 12] += x[t] * x[t] } }
        let peakMonth = (monthVariance.firstIndex(of: monthVariance.max() ?? 0) ?? 0) + 1
        XCTAssertTrue([11, 12, 1].contains(peakMonth), "Niño3.4 variance peaks in month \(peakMonth)")
        XCTAssertGreaterThan((monthVariance.max() ?? 0) / (monthVariance.min() ?? 1), 1.5)
    }

    func testMembersAreIndependent() {
        let f = Self.fixture
        // Null SE of a correlation with ~190 effective samples is ≈ 0.07; |r| < 0.2 is a
        // 2.8-SE bound, and the mean |r| over 45 pairs should be ≈ 0.06 (bound 0.1).
        let r01 = Stats.correlation(f.nino34[0], f.nino34[1])
        XCTAssertLessThan(abs(r01), 0.2)
        var sum = 0.0, pairs = 0
        for a in 0..<f.memberCount { for b in (a + 1)..<f.memberCount { sum += abs(Stats.correlation(f.nino34[a], f.nino34[b])); pairs += 1 } }
        XCTAssertLessThan(sum / Double(pairs), 0.1)
    }

    /// ENSO's lagged global imprint: regression of global-mean anomalies (deviations from
    /// the ensemble mean) on Niño3.4 four months earlier. With residual SD ≈ 0.2 K, Niño3.4
    /// SD ≈ 0.95 K and ~10 × 190 effective samples the SE is ≈ 0.005 K/K; target ~0.1.
    func testLaggedGlobalImprintOfENSO() {
        let f = Self.fixture, n = f.globalMean[0].count, lag = 4
        let em = (0..<n).map { t in f.globalMean.reduce(0) { $0 + $1[t] } / Double(f.memberCount) }
        var sxy = 0.0, sxx = 0.0
        for k in 0..<f.memberCount {
            for t in lag..<n {
                let x = f.nino34[k][t - lag]
                sxy += (f.globalMean[k][t] - em[t]) * x
                sxx += x * x
            }
        }
        XCTAssertTrue((0.06...0.14).contains(sxy / sxx), "GM regression on Niño3.4 at lag 4: \(sxy / sxx) K/K")
    }

    func testGridPointAmplitudeAndPersistence() {
        let f = Self.fixture, grid = f.simulator.grid, land = f.simulator.landFraction
        let m = f.moments, nlon = grid.longitudeCount
        func lat(_ c: Int) -> Double { grid.latitudes[c / nlon] }
        func lon(_ c: Int) -> Double { grid.longitudes[c % nlon] }
        // Each cell has 10 × 600 anomalies; with lag-1 ≤ 0.8 the effective count is ≥ 660,
        // so the SE of a cell's SD is ≤ 3 % and of its lag-1 autocorrelation ≤ 0.04.
        let midLand = (0..<grid.cellCount).filter { land[$0] >= 0.9 && (40...70).contains(abs(lat($0))) }
        let tropicalOcean = (0..<grid.cellCount).filter {
            land[$0] <= 0.01 && abs(lat($0)) <= 20 && !(160...280).contains(lon($0))
        }
        XCTAssertGreaterThan(midLand.count, 50)
        XCTAssertGreaterThan(tropicalOcean.count, 50)
        for c in midLand {
            XCTAssertTrue((1.2...3.5).contains(m.standardDeviation[c]), "land cell \(c): SD \(m.standardDeviation[c]) K")
        }
        for c in tropicalOcean {
            XCTAssertTrue((0.2...0.8).contains(m.standardDeviation[c]), "ocean cell \(c): SD \(m.standardDeviation[c]) K")
        }
        let ocean = Stats.areaMean(m.lag1, grid: grid) { land[$0] <= 0.01 }
        let landLag = Stats.areaMean(m.lag1, grid: grid) { land[$0] >= 0.9 }
        XCTAssertGreaterThan(ocean - landLag, 0.3, "lag-1 ocean \(ocean), land \(landLag)")
        XCTAssertTrue((0.6...0.9).contains(ocean), "lag-1 ocean \(ocean)")
        XCTAssertTrue((0.1...0.35).contains(landLag), "lag-1 land \(landLag)")
    }
}
