import Foundation

/// A major explosive eruption and the peak effective radiative forcing of its
/// stratospheric aerosol.
public struct VolcanicEruption: Sendable, Equatable {
    public let name: String
    /// Eruption date (year, month, day).
    public let year: Int, month: Int, day: Int
    /// Peak global-mean stratospheric aerosol optical depth at 550 nm (Sato et al. 1993, updated).
    public let peakOpticalDepth: Double

    /// Eruption time in decimal years (months of equal length).
    public var decimalYear: Double { Double(year) + (Double(month - 1) + Double(day - 1) / 30.5) / 12 }
    /// Peak ERF, W m⁻²: −20 W m⁻² per unit optical depth (IPCC AR6 WG1 §7.3.4.6: −20 ± 5).
    public var peakForcing: Double { -Forcing.forcingPerOpticalDepth * peakOpticalDepth }
}

/// Historical effective radiative forcing (ERF, W m⁻², relative to 1750) as analytic
/// functions of the decimal year (future SSP pathways: `ForcingScenario`, ScenarioForcing.swift). Agents: CO₂, other well-mixed greenhouse gases and
/// ozone (lumped), anthropogenic aerosol, the 11-year solar cycle, stratospheric
/// volcanic aerosol. Tables are interpolated linearly; see Docs/simulator.md.
public enum Forcing {
    /// W m⁻² per unit stratospheric aerosol optical depth.
    public static let forcingPerOpticalDepth = 20.0
    /// Reference (pre-industrial) CO₂ concentration C₀, ppm.
    public static let referenceCO2 = 278.0

    /// The six eruptions, dates from the Smithsonian GVP; optical depths from Sato et al.
    /// (1993, updated) rounded.
    public static let eruptions: [VolcanicEruption] = [
        VolcanicEruption(name: "Krakatoa", year: 1883, month: 8, day: 27, peakOpticalDepth: 0.12),
        VolcanicEruption(name: "Santa María", year: 1902, month: 10, day: 24, peakOpticalDepth: 0.06),
        VolcanicEruption(name: "Novarupta", year: 1912, month: 6, day: 6, peakOpticalDepth: 0.05),
        VolcanicEruption(name: "Agung", year: 1963, month: 3, day: 17, peakOpticalDepth: 0.08),
        VolcanicEruption(name: "El Chichón", year: 1982, month: 4, day: 4, peakOpticalDepth: 0.09),
        VolcanicEruption(name: "Pinatubo", year: 1991, month: 6, day: 15, peakOpticalDepth: 0.15),
    ]
    /// Rise (τ_r) and e-folding decay (τ_d) times of the volcanic aerosol, years.
    public static let volcanicRiseTime = 0.25, volcanicDecayTime = 1.0

    /// CO₂ concentration (ppm): Law Dome ice core (Etheridge et al. 1996) before 1958,
    /// Mauna Loa annual means (Keeling et al.) after; constant 277 ppm before 1750 and
    /// +2.4 ppm/yr after 2020.
    static let co2Table: [(Double, Double)] = [
        (1750, 277.0), (1800, 282.9), (1850, 285.2), (1870, 288.7), (1890, 294.2), (1900, 295.7),
        (1910, 299.7), (1920, 303.0), (1930, 307.2), (1940, 310.5), (1950, 311.3), (1960, 316.9),
        (1970, 325.7), (1980, 338.8), (1990, 354.4), (2000, 369.6), (2010, 389.9), (2020, 412.1),
    ]
    /// ERF of CH₄, N₂O, halocarbons and tropospheric + stratospheric ozone, net of
    /// land-use albedo, W m⁻² (shape and 2011 magnitude after IPCC AR5 WG1 Annex II).
    static let otherGreenhouseTable: [(Double, Double)] = [
        (1750, 0.0), (1850, 0.05), (1900, 0.15), (1950, 0.40), (1960, 0.52), (1970, 0.70),
        (1980, 0.92), (1990, 1.08), (2000, 1.14), (2010, 1.20), (2020, 1.30),
    ]
    /// Anthropogenic aerosol ERF (aerosol–radiation + aerosol–cloud), W m⁻²: slow growth
    /// before 1950, rapid growth 1950–1980, stable after (AR5: −0.9 W m⁻² in 2011).
    static let aerosolTable: [(Double, Double)] = [
        (1750, 0.0), (1850, -0.08), (1900, -0.22), (1950, -0.50), (1960, -0.65), (1970, -0.82),
        (1980, -0.93), (1990, -0.95), (2000, -0.93), (2010, -0.90), (2020, -0.80),
    ]
    /// Solar-cycle minima (decimal years, SIDC); cycles before and after repeat every 11 years.
    static let solarMinima: [Double] = [
        1755.2, 1766.5, 1775.5, 1784.7, 1798.3, 1810.6, 1823.3, 1833.9, 1843.5, 1856.0, 1867.2,
        1878.9, 1890.2, 1902.0, 1913.6, 1923.6, 1933.8, 1944.2, 1954.3, 1964.9, 1976.5, 1986.8,
        1996.4, 2008.9, 2019.9,
    ]
    /// Peak-to-peak ERF of the 11-year cycle, W m⁻² (≈ 1 W m⁻² TSI × ¼ × 0.7 × ~0.6 ERF ratio).
    public static let solarPeakToPeak = 0.1

    static func interpolate(_ table: [(Double, Double)], at t: Double) -> Double {
        guard let first = table.first, let last = table.last else { return 0 }
        if t <= first.0 { return first.1 }
        if t >= last.0 { return last.1 }
        var lo = 0, hi = table.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if table[mid].0 <= t { lo = mid } else { hi = mid }
        }
        let (t0, v0) = table[lo], (t1, v1) = table[hi]
        return v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    }

    /// CO₂ concentration at decimal year `t`, ppm.
    public static func co2Concentration(at t: Double) -> Double {
        if let last = co2Table.last, t > last.0 { return last.1 + 2.4 * (t - last.0) }
        return interpolate(co2Table, at: t)
    }

    /// CO₂ ERF, W m⁻²: 5.35 ln(C/C₀) (Myhre et al. 1998).
    public static func carbonDioxide(at t: Double) -> Double { 5.35 * log(co2Concentration(at: t) / referenceCO2) }

    /// Other well-mixed greenhouse gases and ozone, W m⁻² (held at the 2020 value after 2020).
    public static func otherGreenhouseGases(at t: Double) -> Double { interpolate(otherGreenhouseTable, at: t) }

    /// Anthropogenic aerosol, W m⁻² (held at the 2020 value after 2020).
    public static func aerosol(at t: Double) -> Double { interpolate(aerosolTable, at: t) }

    /// 11-year solar cycle, W m⁻²: (Δ/2)·(−cos 2πφ), φ the phase between consecutive minima.
    public static func solar(at t: Double) -> Double {
        let m = solarMinima
        var phase: Double
        if t < m[0] {
            phase = (t - m[0]) / 11
        } else if t >= m[m.count - 1] {
            phase = (t - m[m.count - 1]) / 11
        } else {
            var k = 0
            while m[k + 1] <= t { k += 1 }
            phase = (t - m[k]) / (m[k + 1] - m[k])
        }
        phase -= phase.rounded(.down)
        return -0.5 * solarPeakToPeak * cos(2 * .pi * phase)
    }

    /// Normalised shape g(s) = (1 − e^{−s/τ_r}) e^{−s/τ_d} / max g of the volcanic forcing
    /// `s` years after an eruption (0 before it).
    public static func volcanicShape(yearsAfterEruption s: Double) -> Double {
        guard s > 0 else { return 0 }
        let tr = volcanicRiseTime, td = volcanicDecayTime
        let sPeak = tr * log(1 + td / tr)
        let peak = (1 - exp(-sPeak / tr)) * exp(-sPeak / td)
        return (1 - exp(-s / tr)) * exp(-s / td) / peak
    }

    /// Stratospheric volcanic aerosol ERF, W m⁻² (sum over the eruptions).
    public static func volcanic(at t: Double) -> Double {
        eruptions.reduce(0) { $0 + $1.peakForcing * volcanicShape(yearsAfterEruption: t - $1.decimalYear) }
    }
}

/// Monthly-mean ERF per agent over the simulated period, W m⁻² relative to 1750. Index
/// `t` is month `t` of the simulation (January of `startYear` is 0).
public struct ForcingHistory: Sendable, Equatable {
    /// Mid-month time in decimal years (months of equal length).
    public let time: [Double]
    /// Monthly-mean CO₂ concentration, ppm.
    public let co2Concentration: [Double]
    public let carbonDioxide: [Double]
    public let otherGreenhouseGases: [Double]
    public let aerosol: [Double]
    public let solar: [Double]
    public let volcanic: [Double]

    /// Sum of all agents, W m⁻².
    public var total: [Double] { (0..<time.count).map { total(at: $0) } }
    /// Sum of all agents except volcanic aerosol, W m⁻².
    public var nonVolcanic: [Double] { (0..<time.count).map { total(at: $0) - volcanic[$0] } }
    func total(at t: Int) -> Double {
        carbonDioxide[t] + otherGreenhouseGases[t] + aerosol[t] + solar[t] + volcanic[t]
    }

    /// Agent names and series, in a fixed order (for writing `--forcing-output`).
    public var agents: [(name: String, values: [Double])] {
        [("co2", carbonDioxide), ("other_ghg_ozone", otherGreenhouseGases), ("aerosol", aerosol),
         ("solar", solar), ("volcanic", volcanic), ("total", total)]
    }

    /// The forcing pathway of these series.
    public let scenario: ForcingScenario

    /// Monthly means (average of `samplesPerMonth` equally spaced instants inside the month)
    /// from January of `startYear` to December of `endYear`, in `scenario` (which callers
    /// check covers `endYear`: an SSP holds its last node after its last year).
    public init(startYear: Int, endYear: Int, samplesPerMonth: Int = 8, scenario: ForcingScenario = .historical) {
        let n = max(0, 12 * (endYear - startYear + 1))
        var time = [Double](), c = [Double](), co2 = [Double](), other = [Double](), aer = [Double]()
        var sol = [Double](), vol = [Double]()
        time.reserveCapacity(n)
        let s = max(1, samplesPerMonth)
        for m in 0..<n {
            let t0 = Double(startYear) + Double(m) / 12
            time.append(t0 + 1.0 / 24)
            var a = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
            for q in 0..<s {
                let t = t0 + (Double(q) + 0.5) / Double(s) / 12
                a.0 += Forcing.co2Concentration(at: t, scenario: scenario)
                a.1 += Forcing.carbonDioxide(at: t, scenario: scenario)
                a.2 += Forcing.otherGreenhouseGases(at: t, scenario: scenario)
                a.3 += Forcing.aerosol(at: t, scenario: scenario)
                a.4 += Forcing.solar(at: t)
                a.5 += Forcing.volcanic(at: t)
            }
            let w = 1 / Double(s)
            c.append(a.0 * w); co2.append(a.1 * w); other.append(a.2 * w)
            aer.append(a.3 * w); sol.append(a.4 * w); vol.append(a.5 * w)
        }
        self.scenario = scenario
        self.time = time
        co2Concentration = c
        carbonDioxide = co2
        otherGreenhouseGases = other
        aerosol = aer
        solar = sol
        volcanic = vol
    }

    /// The months `range` of this history.
    func slice(_ range: Range<Int>) -> ForcingHistory {
        ForcingHistory(time: Array(time[range]), co2Concentration: Array(co2Concentration[range]),
                       carbonDioxide: Array(carbonDioxide[range]),
                       otherGreenhouseGases: Array(otherGreenhouseGases[range]), aerosol: Array(aerosol[range]),
                       solar: Array(solar[range]), volcanic: Array(volcanic[range]), scenario: scenario)
    }

    private init(time: [Double], co2Concentration: [Double], carbonDioxide: [Double],
                 otherGreenhouseGases: [Double], aerosol: [Double], solar: [Double], volcanic: [Double],
                 scenario: ForcingScenario) {
        self.scenario = scenario
        self.time = time
        self.co2Concentration = co2Concentration
        self.carbonDioxide = carbonDioxide
        self.otherGreenhouseGases = otherGreenhouseGases
        self.aerosol = aerosol
        self.solar = solar
        self.volcanic = volcanic
    }
}
