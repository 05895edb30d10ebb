import Foundation

/// The forcing pathway of a simulation: `historical` alone, or the historical forcing up to
/// the end of 2014 followed by a Shared Socioeconomic Pathway (SSP) from 2015 on.
///
/// Sources of the SSP pathways (decadal nodes 2020–2100, linear in between):
/// - effective radiative forcing per agent: IPCC AR6 WG1 Annex III, "Tables of historical
///   and projected well-mixed greenhouse gas mixing ratios and effective radiative forcing
///   of all climate forcers" (Dentener, Hall and Smith, eds., 2021), the SSP ERF tables, as
///   released with two decimals in the AR6 chapter 7 data repository
///   (github.com/chrisroadmap/ar6, `data_output/annex5/ERF_<ssp>_2020-2500.csv`);
/// - CO₂ concentration: Meinshausen et al. (2020, GMD 13, 3571), the CMIP6 SSP greenhouse
///   gas concentrations (RCMIP v5.1.0 annual global means), rounded to 0.1 ppm.
///
/// See Docs/simulator.md ("Future scenarios").
public enum ForcingScenario: String, CaseIterable, Sendable {
    /// The historical forcing, extrapolated after 2020 as documented in `Forcing`.
    case historical
    /// SSP1-2.6: low emissions, CO₂ emissions net zero around 2075.
    case ssp126
    /// SSP2-4.5: intermediate emissions.
    case ssp245
    /// SSP5-8.5: very high emissions.
    case ssp585

    /// The CMIP6 `experiment_id` of the scenario.
    public var experimentID: String { rawValue }

    /// The scenario's usual name, e.g. "SSP5-8.5".
    public var displayName: String {
        switch self {
        case .historical: return "historical"
        case .ssp126: return "SSP1-2.6"
        case .ssp245: return "SSP2-4.5"
        case .ssp585: return "SSP5-8.5"
        }
    }

    /// Last year the scenario defines (`nil`: no limit; the historical forcing is extrapolated).
    public var lastYear: Int? { pathway?.years.last.map { Int($0) } }

    /// The future pathway (`nil` for `historical`).
    public var pathway: ScenarioPathway? {
        switch self {
        case .historical: return nil
        case .ssp126: return ScenarioPathway.ssp126
        case .ssp245: return ScenarioPathway.ssp245
        case .ssp585: return ScenarioPathway.ssp585
        }
    }

    /// One sentence for file metadata: what forcing the run uses and where it comes from.
    public var forcingDescription: String {
        switch self {
        case .historical:
            return "Historical forcing (see Docs/simulator.md)."
        default:
            return "Historical forcing to 2014, \(displayName) from 2015 (effective radiative forcing of IPCC AR6 WG1 "
                + "Annex III, CO2 concentration of Meinshausen et al. 2020; no volcanic eruptions after 2014; solar cycle continued)."
        }
    }
}

/// A future forcing pathway at decadal nodes, W m⁻² relative to 1750 (ERF of the AR6 WG1
/// Annex III tables, grouped into the simulator's agents) and ppm (CO₂). Between the branch
/// point (1 January 2015, where the simulator's own historical forcing is taken) and the
/// first node (2020) each agent is interpolated linearly, so the forcing is continuous.
public struct ScenarioPathway: Sendable, Equatable {
    /// Node years (a table year Y is placed at decimal year Y.0, like the historical tables).
    public let years: [Double]
    /// CO₂ concentration, ppm (Meinshausen et al. 2020).
    public let co2Concentration: [Double]
    /// CO₂ ERF, W m⁻².
    public let carbonDioxide: [Double]
    /// CH₄ + N₂O + other well-mixed GHGs + ozone + stratospheric water vapour + contrails +
    /// black carbon on snow + land use, W m⁻² (the simulator's "other GHG + ozone" agent).
    public let otherGreenhouseGases: [Double]
    /// Aerosol–radiation + aerosol–cloud interactions, W m⁻².
    public let aerosol: [Double]
    /// The table's own total anthropogenic ERF (rounded independently of the components), W m⁻².
    public let publishedTotalAnthropogenic: [Double]

    /// Rows: year, CO₂ ppm, then ERF (W m⁻²) of CO₂, CH₄, N₂O, other well-mixed GHGs, ozone,
    /// stratospheric H₂O, contrails, BC on snow, land use, aerosol–radiation,
    /// aerosol–cloud, total anthropogenic.
    init(rows: [[Double]]) {
        years = rows.map { $0[0] }
        co2Concentration = rows.map { $0[1] }
        carbonDioxide = rows.map { $0[2] }
        otherGreenhouseGases = rows.map { $0[3] + $0[4] + $0[5] + $0[6] + $0[7] + $0[8] + $0[9] + $0[10] }
        aerosol = rows.map { $0[11] + $0[12] }
        publishedTotalAnthropogenic = rows.map { $0[13] }
    }

    /// Linear interpolation of `values` at decimal year `t` > `Forcing.scenarioBranchTime`,
    /// starting from `branchValue` at the branch time; the last node is held after the
    /// last year (only its final year is simulated).
    func value(_ values: [Double], at t: Double, branchValue: Double) -> Double {
        let t0 = Forcing.scenarioBranchTime
        if t <= years[0] {
            return branchValue + (values[0] - branchValue) * (t - t0) / (years[0] - t0)
        }
        return Forcing.interpolate(Array(zip(years, values)), at: t)
    }

    // year, CO2 ppm | co2, ch4, n2o, other WMGHG, O3, strat H2O, contrails, BC on snow,
    // land use, aer-rad, aer-cloud | total anthropogenic (W m-2)
    static let ssp126Rows: [[Double]] = [
        [2020,  414.2,  2.22,  0.55,  0.21,  0.40,  0.42,  0.05,  0.05,  0.08, -0.20, -0.20, -0.81,  2.76],
        [2030,  439.6,  2.56,  0.52,  0.22,  0.39,  0.30,  0.05,  0.04,  0.04, -0.21, -0.19, -0.51,  3.23],
        [2040,  458.2,  2.79,  0.46,  0.24,  0.34,  0.26,  0.04,  0.04,  0.03, -0.20, -0.16, -0.36,  3.49],
        [2050,  469.3,  2.93,  0.41,  0.25,  0.28,  0.21,  0.04,  0.04,  0.02, -0.20, -0.15, -0.26,  3.56],
        [2060,  473.7,  2.99,  0.35,  0.25,  0.24,  0.18,  0.03,  0.04,  0.02, -0.20, -0.13, -0.20,  3.58],
        [2070,  473.1,  2.98,  0.31,  0.26,  0.21,  0.15,  0.03,  0.04,  0.02, -0.19, -0.13, -0.16,  3.52],
        [2080,  467.4,  2.91,  0.26,  0.27,  0.19,  0.12,  0.02,  0.04,  0.01, -0.18, -0.13, -0.10,  3.40],
        [2090,  456.9,  2.78,  0.22,  0.28,  0.17,  0.10,  0.02,  0.03,  0.01, -0.17, -0.13, -0.06,  3.24],
        [2100,  445.6,  2.63,  0.19,  0.28,  0.16,  0.08,  0.02,  0.03,  0.00, -0.17, -0.12, -0.01,  3.10],
    ]
    static let ssp245Rows: [[Double]] = [
        [2020,  414.4,  2.22,  0.56,  0.21,  0.40,  0.45,  0.05,  0.05,  0.10, -0.20, -0.18, -0.88,  2.79],
        [2030,  444.1,  2.62,  0.59,  0.23,  0.40,  0.47,  0.05,  0.07,  0.09, -0.21, -0.21, -0.84,  3.25],
        [2040,  475.3,  3.01,  0.61,  0.26,  0.37,  0.45,  0.06,  0.09,  0.07, -0.22, -0.20, -0.74,  3.76],
        [2050,  506.9,  3.38,  0.60,  0.28,  0.34,  0.43,  0.06,  0.09,  0.06, -0.22, -0.18, -0.61,  4.23],
        [2060,  537.1,  3.72,  0.57,  0.30,  0.32,  0.39,  0.05,  0.10,  0.05, -0.22, -0.18, -0.51,  4.59],
        [2070,  563.9,  4.01,  0.54,  0.32,  0.30,  0.35,  0.05,  0.12,  0.04, -0.21, -0.19, -0.43,  4.89],
        [2080,  585.1,  4.23,  0.51,  0.33,  0.29,  0.31,  0.05,  0.15,  0.02, -0.20, -0.19, -0.34,  5.15],
        [2090,  597.7,  4.35,  0.49,  0.34,  0.28,  0.28,  0.04,  0.16,  0.01, -0.19, -0.19, -0.25,  5.32],
        [2100,  602.8,  4.40,  0.47,  0.35,  0.27,  0.25,  0.04,  0.18,  0.01, -0.18, -0.19, -0.21,  5.40],
    ]
    static let ssp585Rows: [[Double]] = [
        [2020,  414.9,  2.23,  0.56,  0.21,  0.40,  0.48,  0.05,  0.06,  0.11, -0.20, -0.14, -0.86,  2.90],
        [2030,  451.5,  2.71,  0.60,  0.23,  0.41,  0.49,  0.06,  0.08,  0.09, -0.21, -0.13, -0.71,  3.61],
        [2040,  500.0,  3.30,  0.66,  0.26,  0.41,  0.54,  0.06,  0.09,  0.09, -0.23, -0.14, -0.67,  4.37],
        [2050,  562.8,  4.00,  0.74,  0.28,  0.42,  0.56,  0.07,  0.10,  0.07, -0.23, -0.15, -0.57,  5.29],
        [2060,  643.0,  4.79,  0.79,  0.30,  0.45,  0.60,  0.07,  0.12,  0.06, -0.24, -0.18, -0.58,  6.21],
        [2070,  743.7,  5.68,  0.81,  0.32,  0.50,  0.60,  0.07,  0.14,  0.06, -0.24, -0.20, -0.55,  7.19],
        [2080,  864.4,  6.62,  0.80,  0.34,  0.55,  0.56,  0.07,  0.15,  0.05, -0.23, -0.20, -0.48,  8.24],
        [2090,  998.3,  7.54,  0.77,  0.36,  0.58,  0.49,  0.07,  0.15,  0.03, -0.23, -0.21, -0.38,  9.18],
        [2100, 1135.2,  8.38,  0.73,  0.37,  0.60,  0.40,  0.07,  0.15,  0.02, -0.23, -0.21, -0.27, 10.01],
    ]

    static let ssp126 = ScenarioPathway(rows: ssp126Rows)
    static let ssp245 = ScenarioPathway(rows: ssp245Rows)
    static let ssp585 = ScenarioPathway(rows: ssp585Rows)
}

extension Forcing {
    /// Where a scenario leaves the historical forcing: 1 January 2015 (decimal year 2015.0).
    /// Up to and including this instant every scenario's forcing is the historical one.
    public static let scenarioBranchTime = 2015.0

    /// `historical` up to the branch time, then `series` of the scenario's pathway starting
    /// from the historical value at the branch time.
    private static func following(_ scenario: ForcingScenario, at t: Double, _ series: KeyPath<ScenarioPathway, [Double]>,
                                  historical: (Double) -> Double) -> Double {
        guard let p = scenario.pathway, t > scenarioBranchTime else { return historical(t) }
        return p.value(p[keyPath: series], at: t, branchValue: historical(scenarioBranchTime))
    }

    /// CO₂ concentration at decimal year `t` in `scenario`, ppm.
    public static func co2Concentration(at t: Double, scenario: ForcingScenario) -> Double {
        following(scenario, at: t, \.co2Concentration) { co2Concentration(at: $0) }
    }

    /// CO₂ ERF in `scenario`, W m⁻². After 2014 an SSP takes the AR6 value, which is not
    /// 5.35 ln(C/C₀) of the concentration (AR6 uses the Meinshausen et al. 2020 formula
    /// and adds tropospheric adjustments: 8.38 W m⁻² at 1135 ppm against 7.53).
    public static func carbonDioxide(at t: Double, scenario: ForcingScenario) -> Double {
        following(scenario, at: t, \.carbonDioxide) { carbonDioxide(at: $0) }
    }

    /// Other well-mixed greenhouse gases, ozone and land use in `scenario`, W m⁻².
    public static func otherGreenhouseGases(at t: Double, scenario: ForcingScenario) -> Double {
        following(scenario, at: t, \.otherGreenhouseGases) { otherGreenhouseGases(at: $0) }
    }

    /// Anthropogenic aerosol in `scenario`, W m⁻².
    public static func aerosol(at t: Double, scenario: ForcingScenario) -> Double {
        following(scenario, at: t, \.aerosol) { aerosol(at: $0) }
    }
}
