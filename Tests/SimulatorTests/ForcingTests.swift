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
        // Pinatubo: about −3 W m-2 at peak (0.15 AOD × −20 W m-2 per AOD, AR6).
        XCTAssertTrue((-3.5)...(-2.9) ~= minimum, "Pinatubo peak ERF \(minimum)")
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
        XCTAssertEqual(agung?.peakForcing ?? 0, -20 * 0.08, accuracy: 1e-12)
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
    typealias Matrix = [[Double]]

    static func multiply(_ a: Matrix, _ b: Matrix) -> Matrix {
        a.indices.map { i in b[0].indices.map { j in a[i].indices.reduce(0) { $0 + a[i][$1] * b[$1][j] } } }
    }

    /// Exact monthly means of x' = A x + e₁ F/C₁ for piecewise-constant F: over a month,
    /// x(t) = x_eq + e^{At}(x₀ − x_eq), whose mean is x_eq + φ₁(AΔt)(x₀ − x_eq) with
    /// φ₁(M) = Σ Mⁿ/(n+1)!; e^{M} and φ₁ by their Taylor series (‖AΔt‖ < 0.5, 30 terms
    /// reach machine precision). x_eq = F/λ in every layer.
    func referenceResponse(_ a: Matrix, feedback: Double, forcing: [Double]) -> [Double] {
        let k = a.count, dt = 1.0 / 12
        let m = a.map { $0.map { $0 * dt } }
        var expM = Matrix(repeating: [Double](repeating: 0, count: k), count: k), phi = expM
        var power = (0..<k).map { i in (0..<k).map { j in i == j ? 1.0 : 0.0 } }   // Mⁿ
        var factorial = 1.0
        for n in 0..<30 {
            for i in 0..<k { for j in 0..<k {
                expM[i][j] += power[i][j] / factorial
                phi[i][j] += power[i][j] / (factorial * Double(n + 1))
            } }
            power = Self.multiply(power, m)
            factorial *= Double(n + 1)
        }
        var x = [Double](repeating: 0, count: k), out = [Double]()
        for f in forcing {
            let eq = f / feedback
            let d = x.map { $0 - eq }
            out.append(eq + (0..<k).reduce(0) { $0 + phi[0][$1] * d[$1] })
            x = (0..<k).map { i in eq + (0..<k).reduce(0) { $0 + expM[i][$1] * d[$1] } }
        }
        return out
    }

    func testMatchesExactSolution() {
        var forcing = [Double](repeating: 3.7, count: 600)
        for t in 240..<252 { forcing[t] = -3 }           // a "volcano" on top of a step
        let l = 1.13
        // Two layers (Geoffroy et al. 2013), with and without efficacy: written out by hand.
        for e in [1.0, 1.28] {
            let c = 7.3, cd = 106.0, g = 0.74
            let a: Matrix = [[-(l + e * g) / c, e * g / c], [g / cd, -g / cd]]
            let model = EnergyBalanceModel(heatCapacities: [c, cd], couplings: [g], feedback: l, efficacy: e)
            check(model, a, l, forcing, "two-layer ε = \(e)")
        }
        // Three layers (the default), efficacy on the deepest coupling.
        for e in [1.0, 1.28] {
            let c1 = 3.0, c2 = 4.3, c3 = 106.0, k2 = 5.0, k3 = 0.74
            let a: Matrix = [[-(l + k2) / c1, k2 / c1, 0],
                             [k2 / c2, -(k2 + e * k3) / c2, e * k3 / c2],
                             [0, k3 / c3, -k3 / c3]]
            let model = EnergyBalanceModel(heatCapacities: [c1, c2, c3], couplings: [k2, k3], feedback: l, efficacy: e)
            check(model, a, l, forcing, "three-layer ε = \(e)")
        }
    }

    func check(_ model: EnergyBalanceModel, _ a: Matrix, _ l: Double, _ forcing: [Double], _ label: String) {
        let got = model.response(to: forcing).surface, want = referenceResponse(a, feedback: l, forcing: forcing)
        // RK4 with h = 1/96 yr on time scales ≥ 0.4 yr: local error ~ (h/τ)⁵ ≪ 1e-8 K; the
        // trapezoidal monthly mean differs from the exact mean by ≲ h²/12·|T''| ≈ 1e-5 K.
        var worst = 0.0
        for t in forcing.indices { worst = max(worst, abs(got[t] - want[t])) }
        XCTAssertLessThan(worst, 1e-4, label)
    }

    func testLinearSuperposition() {
        let m = EnergyBalanceModel(parameters: SimulatorParameters())
        let h = ForcingHistory(startYear: 1750, endYear: 1800)
        let a = m.response(to: h.total).surface, b = m.response(to: h.volcanic).surface
        let c = m.response(to: h.nonVolcanic).surface
        for t in a.indices { XCTAssertEqual(a[t], b[t] + c[t], accuracy: 1e-12) }
    }

    /// The default model's Pinatubo-like response: peak cooling ≈ 0.4–0.5 K about 1.3 years
    /// after the eruption (observed: ≈ 0.4 K in the second half of 1992).
    func testVolcanicResponseTiming() {
        let m = EnergyBalanceModel(parameters: SimulatorParameters())
        let h = ForcingHistory(startYear: 1985, endYear: 1996)
        let t = m.response(to: h.volcanic).surface
        let e = 12 * (1991 - 1985) + 5
        let window = Array(t[e..<(e + 48)])
        let peak = window.min() ?? 0, when = window.firstIndex(of: peak) ?? 0
        XCTAssertTrue((0.35...0.55).contains(-peak + t[e - 1]), "peak \(peak)")
        XCTAssertTrue((10...20).contains(when), "peak after \(when) months")
    }
}
