import Foundation

/// Layered energy-balance model (Held et al. 2010; Geoffroy et al. 2013; in its k-layer
/// form, Cummins et al. 2020). With layers i = 1…k (1 = surface, k = deep ocean):
///
///     C₁ dT₁/dt = F − λ T₁ − κ₂ (T₁ − T₂)
///     Cᵢ dTᵢ/dt = κᵢ (Tᵢ₋₁ − Tᵢ) − εᵢ₊₁ κᵢ₊₁ (Tᵢ − Tᵢ₊₁)      1 < i < k
///     C_k dT_k/dt = κ_k (T_{k−1} − T_k)
///
/// where the efficacy ε multiplies the heat flux into the deepest layer as seen by the
/// layer above it (Geoffroy et al. 2013b; ε = 1 is the model without efficacy; for k = 2
/// the flux out of the surface layer is ε κ₂ (T₁ − T₂)). T in K, F in W m⁻², C in
/// W yr m⁻² K⁻¹, λ and κ in W m⁻² K⁻¹, time in years. k = 2 is the classic two-layer
/// model. Forcing is held constant over each month; classical RK4 with `stepsPerMonth`
/// steps; monthly means are the trapezoidal average of the sub-step states.
public struct EnergyBalanceModel: Sendable, Equatable {
    /// Heat capacities C₁…C_k, W yr m⁻² K⁻¹ (k ≥ 2).
    public var heatCapacities: [Double]
    /// Couplings κ₂…κ_k between layer i−1 and i, W m⁻² K⁻¹ (count k − 1).
    public var couplings: [Double]
    /// Climate feedback parameter λ, W m⁻² K⁻¹.
    public var feedback: Double
    /// Deep-ocean heat-uptake efficacy ε (applies to the coupling into the deepest layer).
    public var efficacy: Double
    public var stepsPerMonth = 8

    public init(heatCapacities: [Double], couplings: [Double], feedback: Double, efficacy: Double = 1) {
        precondition(heatCapacities.count >= 2 && couplings.count == heatCapacities.count - 1,
                     "an EBM needs k ≥ 2 heat capacities and k − 1 couplings")
        self.heatCapacities = heatCapacities
        self.couplings = couplings
        self.feedback = feedback
        self.efficacy = efficacy
    }

    public init(parameters p: SimulatorParameters) {
        self.init(heatCapacities: p.heatCapacities, couplings: p.layerCouplings, feedback: p.feedback,
                  efficacy: p.efficacy)
    }

    /// dT/dt for state `x` under forcing `f`.
    func tendency(_ x: [Double], forcing f: Double, into d: inout [Double]) {
        let k = x.count
        var flux = [Double](repeating: 0, count: k + 1)    // flux[i]: from layer i−1 into layer i (0-based i)
        for i in 1..<k {
            let q = couplings[i - 1] * (x[i - 1] - x[i])
            flux[i] = q
        }
        for i in 0..<k {
            let incoming = i == 0 ? f - feedback * x[0] : flux[i]
            var outgoing = i + 1 < k ? flux[i + 1] : 0
            if i + 1 == k - 1 { outgoing *= efficacy }
            d[i] = (incoming - outgoing) / heatCapacities[i]
        }
    }

    /// Monthly-mean response of every layer to monthly forcing `forcing` (W m⁻²),
    /// starting from rest. Returns `layers[i][t]`, K.
    public func layerResponse(to forcing: [Double]) -> [[Double]] {
        let k = heatCapacities.count
        var x = [Double](repeating: 0, count: k)
        var out = [[Double]](repeating: [Double](repeating: 0, count: forcing.count), count: k)
        let n = max(1, stepsPerMonth)
        let h = 1.0 / 12 / Double(n)
        var k1 = x, k2 = x, k3 = x, k4 = x, y = x, sum = x
        for m in forcing.indices {
            let f = forcing[m]
            for i in 0..<k { sum[i] = 0.5 * x[i] }
            for s in 0..<n {
                tendency(x, forcing: f, into: &k1)
                for i in 0..<k { y[i] = x[i] + 0.5 * h * k1[i] }
                tendency(y, forcing: f, into: &k2)
                for i in 0..<k { y[i] = x[i] + 0.5 * h * k2[i] }
                tendency(y, forcing: f, into: &k3)
                for i in 0..<k { y[i] = x[i] + h * k3[i] }
                tendency(y, forcing: f, into: &k4)
                let w = s == n - 1 ? 0.5 : 1.0
                for i in 0..<k {
                    x[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i])
                    sum[i] += w * x[i]
                }
            }
            for i in 0..<k { out[i][m] = sum[i] / Double(n) }
        }
        return out
    }

    /// Monthly-mean (surface T₁, deepest layer T_k), K.
    public func response(to forcing: [Double]) -> (surface: [Double], deep: [Double]) {
        let l = layerResponse(to: forcing)
        return (l[0], l[l.count - 1])
    }
}

/// The forced response common to all members: global-mean layer temperature anomalies
/// (K, relative to the 1750 equilibrium) for every simulated month, split into the
/// volcanic and non-volcanic parts (the model is linear, so they add).
public struct ForcedResponse: Sendable, Equatable {
    /// Global-mean surface temperature anomaly T₁ (K), total.
    public let surface: [Double]
    /// Upper-ocean (mixed-layer) anomaly T₂ (K).
    public let mixedLayer: [Double]
    /// Deep-ocean anomaly T_k (K).
    public let deep: [Double]
    /// Part of `surface` due to volcanic forcing (K).
    public let volcanicSurface: [Double]
    /// Part of `surface` due to all other agents (K).
    public var nonVolcanicSurface: [Double] { zip(surface, volcanicSurface).map { $0 - $1 } }
}
