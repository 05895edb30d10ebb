// The DDPM forward process q(x_t | x_0) with the cosine schedule, v-prediction, and the
// DDIM/ancestral reverse update on any subsequence of timesteps.

import Foundation

/// Cosine noise schedule (Nichol & Dhariwal 2021): ᾱ(t) = f(t)/f(0),
/// f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008, with β_t clipped at 0.999.
public struct NoiseSchedule: Sendable, Equatable {
    /// Number of diffusion steps T.
    public let steps: Int
    /// ᾱ_t for t = 0…T (ᾱ_0 = 1: clean data).
    public let alphaBar: [Double]

    /// Noise levels of every model this tool trains.
    public static let defaultSteps = 1000

    public init(steps: Int = NoiseSchedule.defaultSteps, offset: Double = 0.008) {
        precondition(steps >= 1, "diffusion needs at least one step")
        self.steps = steps
        func f(_ t: Double) -> Double {
            let angle = (t / Double(steps) + offset) / (1 + offset) * Double.pi / 2
            return cos(angle) * cos(angle)
        }
        var bars = [1.0]
        for t in 1...steps {
            let beta = min(1 - f(Double(t)) / f(Double(t - 1)), 0.999)
            bars.append(bars[t - 1] * (1 - beta))
        }
        alphaBar = bars
    }

    /// x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε and the v-prediction target v = √ᾱ_t ε − √(1 − ᾱ_t) x_0.
    public func noised(clean x0: Float, noise: Float, at t: Int) -> (xt: Float, v: Float) {
        let a = Float(alphaBar[t].squareRoot()), s = Float((1 - alphaBar[t]).squareRoot())
        return (a * x0 + s * noise, a * noise - s * x0)
    }

    /// `count` timesteps from T down to 1, evenly spaced (the sampler's subsequence).
    public func samplingTimesteps(_ count: Int) -> [Int] {
        let n = max(1, min(count, steps))
        return (0..<n).map { i in Int((Double(steps) * Double(n - i) / Double(n)).rounded()) }
    }

    /// One DPM-Solver++(2M) step (Lu et al. 2022, multistep, data prediction) from x_t to x_s
    /// (s < t) on the probability-flow ODE, as x_s = a·x_t + b·v + c·x̂₀′, where x̂₀ =
    /// α_t x_t − σ_t v is this step's data prediction and x̂₀′ the previous step's
    /// (α = √ᾱ, σ = √(1 − ᾱ), λ = log α/σ, h = λ_s − λ_t):
    /// x_s = (σ_s/σ_t) x_t − α_s (e^{−h} − 1) D, D = (1 + 1/2r) x̂₀ − (1/2r) x̂₀′, r = h′/h,
    /// with h′ the previous step's h. `previous` is the previous step's start time (nil for
    /// the first step, which is first order: D = x̂₀, the DDIM step). The step to s = 0
    /// (σ_s = 0, h infinite) is x̂₀ itself.
    public func multistepStep(from t: Int, to s: Int, previous: Int?) -> (a: Float, b: Float, c: Float) {
        let alphaT = alphaBar[t].squareRoot(), sigmaT = (1 - alphaBar[t]).squareRoot()
        guard s > 0 else { return (Float(alphaT), Float(-sigmaT), 0) }
        let alphaS = alphaBar[s].squareRoot(), sigmaS = (1 - alphaBar[s]).squareRoot()
        func lambda(_ k: Int) -> Double { 0.5 * log(alphaBar[k] / (1 - alphaBar[k])) }
        let h = lambda(s) - lambda(t)
        // D = wCurrent·x̂₀ + wPrevious·x̂₀′.
        var (wCurrent, wPrevious) = (1.0, 0.0)
        if let p = previous {
            let r = (lambda(t) - lambda(p)) / h
            (wCurrent, wPrevious) = (1 + 1 / (2 * r), -1 / (2 * r))
        }
        let dataWeight = -alphaS * (exp(-h) - 1)
        // x_s = (σ_s/σ_t) x_t + dataWeight·(wCurrent (α_t x_t − σ_t v) + wPrevious x̂₀′).
        return (Float(sigmaS / sigmaT + dataWeight * wCurrent * alphaT), Float(-dataWeight * wCurrent * sigmaT),
                Float(dataWeight * wPrevious))
    }

    /// One reverse step from x_t to x_s (s < t) given the model's v, as x_s = a·x_t + b·v + σ·ε:
    /// the DDIM update with stochasticity η (η = 0 deterministic DDIM, η = 1 ancestral DDPM
    /// on the subsequence). From x̂₀ = √ᾱ_t x_t − √(1−ᾱ_t) v and ε̂ = √(1−ᾱ_t) x_t + √ᾱ_t v,
    /// x_s = √ᾱ_s x̂₀ + √(1 − ᾱ_s − σ²) ε̂, σ² = η² (1−ᾱ_s)/(1−ᾱ_t) (1 − ᾱ_t/ᾱ_s).
    public func reverseStep(from t: Int, to s: Int, eta: Double) -> (a: Float, b: Float, sigma: Float) {
        let at = alphaBar[t], as_ = alphaBar[s]
        let variance = max(eta * eta * (1 - as_) / (1 - at) * (1 - at / as_), 0)
        let direction = max(1 - as_ - variance, 0).squareRoot()
        let sqrtAt = at.squareRoot(), sqrt1At = (1 - at).squareRoot(), sqrtAs = as_.squareRoot()
        return (Float(sqrtAs * sqrtAt + direction * sqrt1At), Float(direction * sqrtAt - sqrtAs * sqrt1At),
                Float(variance.squareRoot()))
    }
}
