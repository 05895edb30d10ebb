import Foundation

/// Two-layer energy-balance model (Held et al. 2010; Geoffroy et al. 2013):
///
///     C   dT/dt   = F − λ T − ε γ (T − T_D)
///     C_D dT_D/dt = γ (T − T_D)
///
/// T is the global-mean surface (upper-layer) temperature anomaly and T_D the deep-ocean
/// anomaly, both K; F is ERF in W m⁻²; time in years. Forcing is held constant over each
/// month; the model is stepped with classical RK4 (`stepsPerMonth` steps) and reports
/// monthly means (trapezoidal average of the sub-step states).
public struct EnergyBalanceModel: Sendable, Equatable {
    /// C, C_D in W yr m⁻² K⁻¹; λ, γ in W m⁻² K⁻¹; ε dimensionless.
    public var upperHeatCapacity: Double, deepHeatCapacity: Double
    public var feedback: Double, heatExchange: Double, efficacy: Double
    public var stepsPerMonth = 8

    public init(upperHeatCapacity: Double, deepHeatCapacity: Double, feedback: Double,
                heatExchange: Double, efficacy: Double = 1) {
        self.upperHeatCapacity = upperHeatCapacity
        self.deepHeatCapacity = deepHeatCapacity
        self.feedback = feedback
        self.heatExchange = heatExchange
        self.efficacy = efficacy
    }

    public init(parameters p: SimulatorParameters) {
        self.init(upperHeatCapacity: p.upperHeatCapacity, deepHeatCapacity: p.deepHeatCapacity,
                  feedback: p.feedback, heatExchange: p.heatExchange, efficacy: p.efficacy)
    }

    /// Monthly-mean response to monthly forcing `forcing` (W m⁻²), starting from rest.
    /// Returns (surface T, deep T_D), each of `forcing.count` values, K.
    public func response(to forcing: [Double]) -> (surface: [Double], deep: [Double]) {
        var t = 0.0, td = 0.0
        var surf = [Double](repeating: 0, count: forcing.count), deep = surf
        let n = max(1, stepsPerMonth)
        let h = 1.0 / 12 / Double(n)
        let c = upperHeatCapacity, cd = deepHeatCapacity, l = feedback, g = heatExchange, e = efficacy
        @inline(__always) func rates(_ x: Double, _ y: Double, _ f: Double) -> (Double, Double) {
            ((f - l * x - e * g * (x - y)) / c, g * (x - y) / cd)
        }
        for m in forcing.indices {
            let f = forcing[m]
            var sumT = 0.5 * t, sumD = 0.5 * td
            for s in 0..<n {
                let k1 = rates(t, td, f)
                let k2 = rates(t + 0.5 * h * k1.0, td + 0.5 * h * k1.1, f)
                let k3 = rates(t + 0.5 * h * k2.0, td + 0.5 * h * k2.1, f)
                let k4 = rates(t + h * k3.0, td + h * k3.1, f)
                t += h / 6 * (k1.0 + 2 * k2.0 + 2 * k3.0 + k4.0)
                td += h / 6 * (k1.1 + 2 * k2.1 + 2 * k3.1 + k4.1)
                let w = s == n - 1 ? 0.5 : 1.0
                sumT += w * t
                sumD += w * td
            }
            surf[m] = sumT / Double(n)
            deep[m] = sumD / Double(n)
        }
        return (surf, deep)
    }

    /// Equilibrium climate sensitivity for a forcing `f2x` (default 3.7 W m⁻²), K.
    public func equilibriumWarming(forcing f2x: Double = 3.71) -> Double { f2x / feedback }
}

/// The forced response common to all members: global-mean surface and deep-ocean
/// temperature anomalies (K, relative to the 1750 equilibrium) for every simulated month,
/// split into the volcanic and non-volcanic parts (the model is linear, so they add).
public struct ForcedResponse: Sendable, Equatable {
    /// Global-mean surface temperature anomaly T (K), total.
    public let surface: [Double]
    /// Deep-ocean temperature anomaly T_D (K), total.
    public let deep: [Double]
    /// Part of `surface` due to volcanic forcing (K).
    public let volcanicSurface: [Double]
    /// Part of `surface` due to all other agents (K).
    public var nonVolcanicSurface: [Double] { zip(surface, volcanicSurface).map { $0 - $1 } }
}
