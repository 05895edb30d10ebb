import XCTest
@testable import Simulator

final class ForcingTests: XCTestCase {
    func testCarbonDioxideFollowsLogarithmicLaw() {
        // Table node: exact value, reference formula written out.
        XCTAssertEqual(Forcing.co2Concentration(at: 1990), 354.4, accuracy: 1e-12)
        XCTAssertEqual(Forcing.carbonDioxide(at: 1990), 5.35 * log(354.4 / 278), accuracy: 1e-12)
        // Linear interpolation between nodes.
        XCTAssertEqual(Forcing.co2Concentration(at: 1995), 0.5 * (354.4 + 369.6), accuracy: 1e-12)
        // AR5: CO2 ERF ≈ 1.68 W m-2 in 2011; about 1.66 in 2005.
        XCTAssertEqual(Forcing.carbonDioxide(at: 2005), 1.66, accuracy: 0.03)
        XCTAssertEqual(Forcing.carbonDioxide(at: 1700), 5.35 * log(277.0 / 278), accuracy: 1e-12)
    }

    func testAerosolGrowsAfter1950AndStabilisesAfter1980() {
        XCTAssertLessThan(Forcing.aerosol(at: 1900), 0)
        XCTAssertLessThan(Forcing.aerosol(at: 1980), 3 * Forcing.aerosol(at: 1900))
        XCTAssertEqual(Forcing.aerosol(at: 2005), Forcing.aerosol(at: 1980), accuracy: 0.05)
        XCTAssertLessThan(Forcing.aerosol(at: 1980) - Forcing.aerosol(at: 1950), -0.3)
    }

    func testSolarCycleAmplitudeAndTiming() {
        let h = ForcingHistory(startYear: 1850, endYear: 2005)
        let ptp = (h.solar.max() ?? 0) - (h.solar.min() ?? 0)
        // Monthly means of a cosine with ~11-yr period lose < 0.1 % of the peak-to-peak.
        XCTAssertEqual(ptp, Forcing.solarPeakToPeak, accuracy: 0.002)
        // Cycle 22 maximum: observed late 1989; the phase model puts it mid-way between
        // the minima 1986.8 and 1996.4, i.e. 1991.6.
        let i0 = 12 * (1985 - 1850), i1 = 12 * (1996 - 1850)
        let slice = Array(h.solar[i0..<i1])
        let peak = h.time[i0 + (slice.firstIndex(of: slice.max() ?? 0) ?? 0)]
        XCTAssertEqual(peak, 1991.6, accuracy: 0.1)
    }

    func testVolcanicForcingTimingPeakAndDecay() {
        let h = ForcingHistory(startYear: 1990, endYear: 1995)
        let june1991 = 12 * 1 + 5
        // Before the eruption month only the tail of El Chichón (1982) remains; the
        // forcing drops in June 1991 (15 June: half of June is affected).
        for t in 0..<june1991 { XCTAssertGreaterThan(h.volcanic[t], -0.01) }
        XCTAssertLessThan(h.volcanic[june1991], h.volcanic[june1991 - 1] - 0.1)
        let minimum = h.volcanic.min() ?? 0
        let tMin = h.volcanic.firstIndex(of: minimum) ?? 0
        // Pinatubo: about −3 to −4 W m-2 at peak (AR5 Fig. 8.18; Hansen et al. 2005).
        XCTAssertTrue((-4.0)...(-3.0) ~= minimum, "Pinatubo peak ERF \(minimum)")
        // Peak s* = τr ln(1 + τd/τr) = 0.40 yr ≈ 5 months after mid-June 1991.
        XCTAssertTrue((june1991 + 3)...(june1991 + 7) ~= tMin, "peak month index \(tMin)")
        // e-folding decay ~1 yr: 12 months after the peak the shape is
        // e^{-1}(1 − e^{-(s*+1)/τr})/(1 − e^{-s*/τr}) ≈ 0.37·1.25 = 0.46 of the peak.
        let ratio = h.volcanic[tMin + 12] / minimum
        let sStar = 0.25 * log(5.0)
        let expected = exp(-1.0) * (1 - exp(-(sStar + 1) / 0.25)) / (1 - exp(-sStar / 0.25))
        XCTAssertEqual(ratio, expected, accuracy: 0.03)   // 0.03: monthly averaging around the peak
        // Other eruptions scale with optical depth.
        let agung = Forcing.eruptions.first { $0.name == "Agung" }
        XCTAssertEqual(agung?.peakForcing ?? 0, -25 * 0.08, accuracy: 1e-12)
        XCTAssertEqual(Forcing.volcanicShape(yearsAfterEruption: sStar), 1, accuracy: 1e-12)
    }

    func testHistoryAgentsSumToTotal() {
        let h = ForcingHistory(startYear: 1850, endYear: 1860)
        XCTAssertEqual(h.time.count, 132)
        XCTAssertEqual(h.time[0], 1850 + 1.0 / 24, accuracy: 1e-12)
        let total = h.total
        for t in h.time.indices {
            XCTAssertEqual(total[t], h.carbonDioxide[t] + h.otherGreenhouseGases[t] + h.aerosol[t] + h.solar[t] + h.volcanic[t],
                           accuracy: 1e-12)
        }
        XCTAssertEqual(h.agents.map(\.name), ["co2", "other_ghg_ozone", "aerosol", "solar", "volcanic", "total"])
    }
}

final class EnergyBalanceModelTests: XCTestCase {
    /// Exact monthly means of the linear system x' = A x + b F for piecewise-constant F,
    /// by eigen-decomposition of the 2×2 matrix A (real, distinct, negative eigenvalues).
    func referenceResponse(_ m: EnergyBalanceModel, forcing: [Double]) -> [Double] {
        let c = m.upperHeatCapacity, cd = m.deepHeatCapacity, l = m.feedback, g = m.heatExchange, e = m.efficacy
        let a11 = -(l + e * g) / c, a12 = e * g / c, a21 = g / cd, a22 = -g / cd
        let tr = a11 + a22, det = a11 * a22 - a12 * a21
        let disc = (tr * tr / 4 - det).squareRoot()
        let mu = [tr / 2 + disc, tr / 2 - disc]
        // Eigenvectors (a12, μ − a11).
        let v = mu.map { [a12, $0 - a11] }
        let vdet = v[0][0] * v[1][1] - v[1][0] * v[0][1]
        var x = [0.0, 0.0]
        let dt = 1.0 / 12
        var out = [Double]()
        for f in forcing {
            // Equilibrium for this F: T = T_D = F/λ.
            let eq = [f / l, f / l]
            let d = [x[0] - eq[0], x[1] - eq[1]]
            // Coefficients of d in the eigenbasis.
            let k0 = (d[0] * v[1][1] - d[1] * v[1][0]) / vdet
            let k1 = (v[0][0] * d[1] - v[0][1] * d[0]) / vdet
            let mean0 = (exp(mu[0] * dt) - 1) / (mu[0] * dt), mean1 = (exp(mu[1] * dt) - 1) / (mu[1] * dt)
            out.append(eq[0] + k0 * v[0][0] * mean0 + k1 * v[1][0] * mean1)
            let e0 = exp(mu[0] * dt), e1 = exp(mu[1] * dt)
            x = [eq[0] + k0 * v[0][0] * e0 + k1 * v[1][0] * e1, eq[1] + k0 * v[0][1] * e0 + k1 * v[1][1] * e1]
        }
        return out
    }

    func testMatchesExactSolution() {
        var forcing = [Double](repeating: 3.7, count: 600)
        for t in 240..<252 { forcing[t] = -3 }           // a "volcano" on top of a step
        for efficacy in [1.0, 1.28] {
            let m = EnergyBalanceModel(upperHeatCapacity: 7.3, deepHeatCapacity: 106, feedback: 1.13,
                                       heatExchange: 0.74, efficacy: efficacy)
            let got = m.response(to: forcing).surface, want = referenceResponse(m, forcing: forcing)
            // RK4 with h = 1/96 yr on time scales ≥ 3 yr: local error ~ (h/τ)^5 ≪ 1e-8; the
            // trapezoidal monthly mean differs from the exact mean by ~h²/12·T'' ≈ 1e-5 K.
            for t in forcing.indices { XCTAssertEqual(got[t], want[t], accuracy: 1e-4, "month \(t), ε = \(efficacy)") }
        }
    }

    func testLinearSuperposition() {
        let m = EnergyBalanceModel(parameters: SimulatorParameters())
        let h = ForcingHistory(startYear: 1750, endYear: 1800)
        let a = m.response(to: h.total).surface, b = m.response(to: h.volcanic).surface
        let c = m.response(to: h.nonVolcanic).surface
        for t in a.indices { XCTAssertEqual(a[t], b[t] + c[t], accuracy: 1e-12) }
    }
}
