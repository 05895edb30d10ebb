// Losses of the models: area-weighted mean squared error and the Gaussian KL divergence.

import Foundation

extension Variable {
    /// Σ w·(prediction − target)² / Σ w over all elements, with `weights` broadcast over
    /// the batch and channels: shape [lat, lon] for images [batch, lat, lon, channels], or
    /// any shape matching the trailing dimensions after the batch. Gradient flows to
    /// `prediction` only.
    public static func weightedMeanSquaredError(_ prediction: Variable, _ target: Tensor, weights: Tensor) -> Variable {
        precondition(prediction.value.count == target.count, "MSE: prediction \(prediction.shape) vs target \(target.shape)")
        let batch = prediction.shape[0]
        let perSample = prediction.value.count / batch
        precondition(perSample % weights.count == 0, "MSE: weights \(weights.shape) for \(prediction.shape)")
        let repeats = perSample / weights.count   // channels per position
        let p = prediction.value.pointer, t = target.pointer, w = weights.pointer
        var weightTotal: Double = 0
        for i in 0..<weights.count { weightTotal += Double(w[i]) }
        let normaliser = Float(1 / (weightTotal * Double(batch * repeats)))
        var total: Double = 0
        for b in 0..<batch {
            for i in 0..<weights.count {
                for c in 0..<repeats {
                    let index = (b * weights.count + i) * repeats + c
                    let d = p[index] - t[index]
                    total += Double(w[i] * d * d)
                }
            }
        }
        let result = Tensor(shape: [], values: [Float(total) * normaliser])
        return Variable(result, inputs: [prediction]) { gradient in
            let dx = prediction.gradientBuffer().pointer, scale = 2 * gradient[0] * normaliser
            let t = target.pointer, w = weights.pointer
            for b in 0..<batch {
                for i in 0..<weights.count {
                    for c in 0..<repeats {
                        let index = (b * weights.count + i) * repeats + c
                        dx[index] += scale * w[i] * (p[index] - t[index])
                    }
                }
            }
        }
    }

    /// Mean over elements of KL(N(μ, e^{logvar}) ‖ N(0, 1)) = ½(μ² + e^{logvar} − 1 − logvar).
    public static func gaussianKL(mean mu: Variable, logVariance logvar: Variable) -> Variable {
        precondition(mu.shape == logvar.shape, "KL: \(mu.shape) vs \(logvar.shape)")
        let n = mu.value.count, pm = mu.value.pointer, pl = logvar.value.pointer
        var total: Double = 0
        for i in 0..<n { total += Double(0.5 * (pm[i] * pm[i] + FastMath.exp(pl[i]) - 1 - pl[i])) }
        let result = Tensor(shape: [], values: [Float(total / Double(n))])
        return Variable(result, inputs: [mu, logvar]) { gradient in
            let scale = gradient[0] / Float(n)
            if mu.requiresGradient {
                let dm = mu.gradientBuffer().pointer
                for i in 0..<n { dm[i] += scale * pm[i] }
            }
            if logvar.requiresGradient {
                let dl = logvar.gradientBuffer().pointer
                for i in 0..<n { dl[i] += scale * 0.5 * (FastMath.exp(pl[i]) - 1) }
            }
        }
    }
}

/// Sinusoidal embedding of diffusion timesteps: [count, dimension] with
/// sin(t·f_i) in the first half and cos(t·f_i) in the second, f_i = maxPeriod^(−i/half).
public func timestepEmbedding(_ timesteps: [Float], dimension: Int, maxPeriod: Float = 10_000) -> Tensor {
    precondition(dimension % 2 == 0, "timestep embedding dimension must be even")
    let half = dimension / 2
    let result = Tensor(uninitializedShape: [timesteps.count, dimension])
    for (row, t) in timesteps.enumerated() {
        for i in 0..<half {
            let frequency = Float(pow(Double(maxPeriod), -Double(i) / Double(half)))
            let angle = Double(t * frequency)
            result[row * dimension + i] = Float(sin(angle))
            result[row * dimension + half + i] = Float(cos(angle))
        }
    }
    return result
}
