// Spread calibration of a trained diffusion model: per latent location, the factor that
// brings the grid-point ensemble spread of generated members to that of the training members.

/// Factors s_j [D] by which `generate` multiplies the residuals it samples, per latent
/// dimension j, fitted by `ensemblegen calibrate-spread`. Generated members share z_c, so
/// their ensemble spread is that of the sampled residuals; a network whose random part is
/// too large or too small in some regions (Docs/models.md) gets it rescaled there. The
/// factors are fitted on what users see, the decoded fields: at each latent location (both
/// channels alike) s is updated so that the ensemble variance of the decoded members plus
/// the unresolved variability, averaged over the grid cells the location covers, equals the
/// training members' (`updatedFactors`), a few times over because the decoder is not linear.
/// They hold for the sampler they were fitted with.
public struct SpreadCalibration: Codable, Equatable, Sendable {
    /// s_j, [D] (latent dimensions in the VAE's order, [lat/d, lon/d, C]).
    public var scale: [Float]
    /// Sampler the generated members were drawn with.
    public var samplerSteps: Int
    public var samplerEta: Double
    /// The sampler's update rule (nil in calibrations that predate the choice: DDIM).
    public var samplerMethod: LatentDiffusion.Sampler.Method?
    /// Generated members and training members compared, and the seed of the generated ones.
    public var generatedMembers: Int
    public var referenceMembers: Int
    public var seed: UInt64
    /// Grid-point spread ratio, generated (with the unresolved variability) over training
    /// members, √(area-weighted mean variance ratio), before calibration and after each update.
    public var spreadRatios: [Double]

    public init(scale: [Float], samplerSteps: Int, samplerEta: Double, samplerMethod: LatentDiffusion.Sampler.Method? = nil,
                generatedMembers: Int, referenceMembers: Int, seed: UInt64, spreadRatios: [Double] = []) {
        self.scale = scale; self.samplerSteps = samplerSteps; self.samplerEta = samplerEta
        self.samplerMethod = samplerMethod == .ddim ? nil : samplerMethod
        self.generatedMembers = generatedMembers; self.referenceMembers = referenceMembers; self.seed = seed
        self.spreadRatios = spreadRatios
    }

    /// Ensemble variance per dimension, [D]: at every month the unbiased variance across
    /// `series` (each [T, D], at least two), averaged over the months.
    public static func ensembleVariance(_ series: [[Float]], dimension d: Int) -> [Double] {
        precondition(series.count >= 2, "ensemble variance needs at least two members, got \(series.count)")
        let n = series[0].count
        precondition(n % d == 0 && series.allSatisfy { $0.count == n }, "ensemble variance: series of unequal length or not [T, \(d)]")
        let timeCount = n / d, members = Double(series.count)
        var variance = [Double](repeating: 0, count: d)
        for i in 0..<n {
            var sum = 0.0, squares = 0.0
            for s in series {
                let x = Double(s[i])
                sum += x
                squares += x * x
            }
            variance[i % d] += (squares - sum * sum / members) / (members - 1)
        }
        return variance.map { $0 / Double(timeCount) }
    }

    /// One update of the factors [lat/d, lon/d, C] (then the global mean's, when the VAE
    /// separates it, left as it is: it acts on every cell alike): at each latent location, s ← s · √(Σ w·target /
    /// Σ w·generated) over the d × d grid cells it covers (w: area weights), for the ensemble
    /// variance per grid cell [lat, lon] of the generated decodings with the present factors and
    /// the variance they should have. One update changes a factor by 1/2 to 2 at most; a
    /// location whose cells have no generated variance, or no variance left to give (the
    /// unresolved variability alone exceeds the training members'), keeps its factor.
    public static func updatedFactors(_ factors: [Float], latentShape: [Int], latitudes: Int, longitudes: Int, weights: [Double],
                                      generated: [Double], target: [Double]) -> [Float] {
        let (rows, columns, channels) = (latentShape[0], latentShape[1], latentShape[2])
        precondition((0...1).contains(factors.count - rows * columns * channels) && latitudes % rows == 0 && longitudes % columns == 0
                         && latitudes / rows == longitudes / columns && generated.count == latitudes * longitudes
                         && target.count == generated.count && weights.count == generated.count,
                     "spread calibration: latent grid \(latentShape) does not tile a \(latitudes) × \(longitudes) grid")
        let d = latitudes / rows
        var updated = factors
        for i in 0..<rows {
            for j in 0..<columns {
                var wanted = 0.0, have = 0.0
                for y in (i * d)..<((i + 1) * d) {
                    for x in (j * d)..<((j + 1) * d) {
                        let cell = y * longitudes + x
                        wanted += weights[cell] * target[cell]
                        have += weights[cell] * generated[cell]
                    }
                }
                guard have > 0, wanted > 0 else { continue }
                let change = Float((wanted / have).squareRoot()).clamped(to: 0.5...2)
                for c in 0..<channels { updated[(i * columns + j) * channels + c] *= change }
            }
        }
        return updated
    }

    /// The sampler the factors were fitted with.
    public var sampler: LatentDiffusion.Sampler {
        LatentDiffusion.Sampler(steps: samplerSteps, eta: samplerEta, method: samplerMethod ?? .ddim)
    }

    /// Multiplies residual series [M, T, D] by the factors, per dimension.
    public func apply(_ residuals: [Float]) -> [Float] { Self.scaled(residuals, by: scale) }

    /// Residual series [M, T, D] multiplied by `factors` [D], per dimension.
    public static func scaled(_ residuals: [Float], by factors: [Float]) -> [Float] {
        residuals.enumerated().map { $0.element * factors[$0.offset % factors.count] }
    }

    /// "factors 0.82–1.04 (mean 0.930) from 32 generated and 29 training members, sampler DDIM
    /// eta=0.0, 50 steps; spread ratio 1.117 → 1.004 → 1.000".
    public var summary: String {
        let mean = scale.reduce(0, +) / Float(max(scale.count, 1))
        return String(format: "factors %.2f–%.2f (mean %.3f) from %d generated and %d training members, sampler %@",
                      scale.min() ?? 1, scale.max() ?? 1, mean, generatedMembers, referenceMembers, sampler.text)
            + (spreadRatios.isEmpty ? "" : "; spread ratio " + spreadRatios.map { String(format: "%.3f", $0) }.joined(separator: " → "))
    }
}

private extension Float {
    func clamped(to range: ClosedRange<Float>) -> Float { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
