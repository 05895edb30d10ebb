import Foundation
import RandomStreams

/// The large-scale internal modes of one member, monthly means.
public struct InternalModes: Sendable, Equatable {
    /// Niño3.4 SST anomaly of the recharge oscillator T, K, one value per simulated month.
    public let enso: [Double]
    /// Thermocline-depth (heat-content) variable h of the oscillator, K-equivalent.
    public let thermocline: [Double]
    /// `enso` lagged by `lag` months (values before the first month come from the spin-up).
    public let ensoLagged: [Double]
    /// Atlantic multidecadal index (unit variance AR(1)).
    public let atlantic: [Double]
}

/// Stochastic recharge oscillator (Jin 1997; Burgers et al. 2005) with a seasonally
/// varying growth rate (Stein et al. 2014) and state-dependent noise (Levine et al. 2016).
/// Time in months:
///
///     dT = [R(t) T + ω h] dt + σ_T max(0, 1 + B T) dW_T
///     dh = [−ω T − r h] dt + σ_h dW_h
///     R(t) = R₀ + R₁ cos(2π (c(t) − c_max) / 12)
///
/// c(t) is the calendar position in months (0 = 1 January). Euler–Maruyama with
/// `stepsPerMonth` sub-steps; monthly means average the sub-step states.
struct RechargeOscillator {
    let growth: Double, seasonalGrowth: Double, maximumGrowthMonth: Double
    let coupling: Double, thermoclineDamping: Double
    let noiseT: Double, noiseH: Double, multiplicative: Double
    let stepsPerMonth: Int

    init(parameters p: SimulatorParameters) {
        growth = p.ensoGrowthRate
        seasonalGrowth = p.ensoSeasonalGrowthAmplitude
        maximumGrowthMonth = p.ensoMaximumGrowthMonth
        coupling = p.ensoCoupling
        thermoclineDamping = p.ensoThermoclineDamping
        noiseT = p.ensoNoiseT
        noiseH = p.ensoNoiseH
        multiplicative = p.ensoMultiplicativeNoise
        stepsPerMonth = max(1, p.ensoStepsPerMonth)
    }

    /// Runs `months` months starting in January from (T, h) = (0, 0); returns monthly means.
    func run(months: Int, random: inout RandomStream) -> (t: [Double], h: [Double]) {
        var t = 0.0, h = 0.0
        var outT = [Double](repeating: 0, count: months), outH = outT
        let dt = 1.0 / Double(stepsPerMonth), sq = dt.squareRoot()
        for m in 0..<months {
            var sumT = 0.0, sumH = 0.0
            for s in 0..<stepsPerMonth {
                let c = Double(m % 12) + (Double(s) + 0.5) * dt
                let r = growth + seasonalGrowth * cos(2 * .pi * (c - maximumGrowthMonth) / 12)
                let gT = random.gaussian(), gH = random.gaussian()
                let dT = (r * t + coupling * h) * dt + noiseT * max(0, 1 + multiplicative * t) * sq * gT
                let dH = (-coupling * t - thermoclineDamping * h) * dt + noiseH * sq * gH
                t += dT
                h += dH
                sumT += t
                sumH += h
            }
            outT[m] = sumT * dt
            outH[m] = sumH * dt
        }
        return (outT, outH)
    }
}

extension InternalModes {
    /// Years of oscillator spin-up before the first simulated month (discarded), so the
    /// first month is drawn from the stationary distribution.
    static let spinUpYears = 30

    /// The modes of the member whose random stream is `member`.
    init(member: RandomStream, months: Int, parameters p: SimulatorParameters) {
        let spin = 12 * InternalModes.spinUpYears
        var ensoStream = member.substream("enso")
        let osc = RechargeOscillator(parameters: p).run(months: spin + months, random: &ensoStream)
        enso = Array(osc.t[spin...])
        thermocline = Array(osc.h[spin...])
        let lag = max(0, min(p.ensoGlobalLag, spin))
        ensoLagged = Array(osc.t[(spin - lag)..<(spin - lag + months)])

        var amvStream = member.substream("atlantic")
        let a = exp(-1 / (12 * p.atlanticTimescale)), b = (1 - a * a).squareRoot()
        var x = amvStream.gaussian()                          // stationary start
        var amv = [Double](repeating: 0, count: months)
        for m in 0..<months {
            x = a * x + b * amvStream.gaussian()
            amv[m] = x
        }
        atlantic = amv
    }
}
