import Climate
import Foundation

/// What to simulate: the grid, the period (monthly means, whole calendar years), the seed
/// and the physical parameters. Every value has a documented default; see
/// Docs/simulator.md for the sources.
public struct SimulatorConfiguration: Sendable, Equatable {
    /// Output grid (latitude ascending, longitude in [0, 360)).
    public var grid: Grid
    /// First simulated year (January is the first month).
    public var startYear: Int
    /// Last simulated year, inclusive (December is the last month).
    public var endYear: Int
    /// Ensemble seed; member `k` depends only on `(seed, k)`.
    public var seed: UInt64
    /// Calendar of the output time axis. The model itself steps in months of equal length,
    /// so the calendar only labels the months.
    public var calendar: CalendarKind
    /// Physical parameters of every component.
    public var parameters: SimulatorParameters
    /// Parallelism inside one member: 1 computes serially on the calling thread; `nil` (all
    /// active processors) or n > 1 splits the work into 4n chunks run by Dispatch.
    /// Results are bit-identical whatever the value.
    public var threadCount: Int?
    /// Forcing pathway: `historical`, or historical to 2014 then an SSP (which ends in its
    /// `lastYear`; a later `endYear` is refused).
    public var scenario: ForcingScenario

    public init(grid: Grid, startYear: Int = 1850, endYear: Int = 2005, seed: UInt64 = 0,
                calendar: CalendarKind = .standard, parameters: SimulatorParameters = SimulatorParameters(), threadCount: Int? = nil,
                scenario: ForcingScenario = .historical) {
        self.grid = grid
        self.startYear = startYear
        self.endYear = endYear
        self.seed = seed
        self.calendar = calendar
        self.parameters = parameters
        self.threadCount = threadCount
        self.scenario = scenario
    }

    /// Number of simulated months, `12 · (endYear − startYear + 1)`.
    public var monthCount: Int { 12 * (endYear - startYear + 1) }
}

/// Errors raised when a configuration cannot be simulated.
public enum SimulatorError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): return "invalid simulator configuration: \(m)"
        }
    }
}

/// Physical parameters of the synthetic ensemble. Units are stated per field; the
/// defaults and their provenance are listed in Docs/simulator.md.
public struct SimulatorParameters: Sendable, Equatable {
    // MARK: Layered energy-balance model (Geoffroy et al. 2013 two-layer values, upper layer split)

    /// Heat capacities C₁ (surface: land, atmosphere, top of the mixed layer), C₂ (rest of
    /// the mixed layer) and C₃ (deep ocean), W yr m⁻² K⁻¹. C₁ + C₂ = 7.3 and C₃ = 106 are
    /// the CMIP5 multi-model mean two-layer values of Geoffroy et al. (2013).
    public var heatCapacities = [3.0, 4.3, 106.0]
    /// Couplings κ₂ (surface ↔ mixed layer) and κ₃ = γ (mixed layer ↔ deep, Geoffroy et
    /// al. 2013: 0.74), W m⁻² K⁻¹.
    public var layerCouplings = [5.0, 0.74]
    /// Climate feedback parameter λ, W m⁻² K⁻¹ (ECS = F₂ₓ / λ ≈ 3.3 K).
    public var feedback = 1.13
    /// Deep-ocean heat-uptake efficacy ε (1 = Held et al. 2010 model without efficacy).
    public var efficacy = 1.0
    /// First year of the forcing spin-up (EBM at rest, forcing ≈ 0, pre-industrial).
    public var spinUpStartYear = 1750

    // MARK: ENSO recharge oscillator (Jin 1997; Burgers et al. 2005; Stein et al. 2014)

    /// Annual-mean growth rate R₀ of the Niño3.4 SST anomaly T, month⁻¹ (negative: damped).
    public var ensoGrowthRate = -0.10
    /// Amplitude R₁ of the seasonal cycle of the growth rate, month⁻¹.
    public var ensoSeasonalGrowthAmplitude = 0.18
    /// Calendar position c_max of the maximum growth rate, months since 1 January (9 = 1 October).
    public var ensoMaximumGrowthMonth = 9.0
    /// Coupling ω between T and thermocline depth h (both in K), month⁻¹.
    public var ensoCoupling = 0.13
    /// Damping of h, month⁻¹.
    public var ensoThermoclineDamping = 0.02
    /// White-noise amplitude forcing T, K month^-1/2.
    public var ensoNoiseT = 0.38
    /// White-noise amplitude forcing h, K month^-1/2.
    public var ensoNoiseH = 0.08
    /// State dependence B of the T noise, K⁻¹ (noise × max(0, 1 + B·T); B > 0 gives El Niño
    /// larger than La Niña, Levine et al. 2016).
    public var ensoMultiplicativeNoise = 0.2
    /// Integration sub-steps per month.
    public var ensoStepsPerMonth = 10
    /// Lag (months) of the global imprint of ENSO.
    public var ensoGlobalLag = 4
    /// Area-mean of the lagged ENSO imprint pattern, K per K of Niño3.4.
    public var ensoGlobalImprint = 0.08

    // MARK: Atlantic multidecadal mode

    /// e-folding time of the AR(1) Atlantic index, years.
    public var atlanticTimescale = 12.0
    /// Peak amplitude of the North Atlantic pattern (subpolar gyre), K per unit index.
    public var atlanticAmplitude = 0.35

    // MARK: Weather noise

    /// Correlation length ℓ of the noise, km: correlation exp(−d² / 2ℓ²).
    public var weatherLengthScale = 1500.0
    /// Monthly lag-1 autocorrelation over ocean.
    public var oceanPersistence = 0.7
    /// Monthly lag-1 autocorrelation over land.
    public var landPersistence = 0.2
    /// Ocean standard deviation at the equator and its increase ∝ sin²φ, K.
    public var oceanNoiseEquator = 0.3
    public var oceanNoisePolar = 0.9
    /// Land standard deviation at the equator and its increase ∝ sin²φ, K.
    public var landNoiseEquator = 0.6
    public var landNoisePolar = 2.6
    /// Relative winter enhancement of land noise (± around the annual mean), poleward of the tropics.
    public var landNoiseSeasonality = 0.3

    // MARK: Forced-response pattern

    /// Land/ocean warming ratio of the forced pattern (Sutton et al. 2007: ≈ 1.5).
    public var landOceanWarmingRatio = 1.5
    /// Extra warming factor at the North Pole relative to the tropics (Arctic amplification).
    public var arcticAmplification = 2.0
    /// Land/ocean ratio of volcanic cooling.
    public var volcanicLandOceanRatio = 1.8

    public init() {}
}
