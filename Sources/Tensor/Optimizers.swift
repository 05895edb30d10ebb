// AdamW with decoupled weight decay, global gradient-norm clipping, warm-up + cosine
// learning-rate schedule, and an exponential moving average of weights.

import Foundation

/// AdamW (Loshchilov & Hutter): Adam moments with bias correction and weight decay applied
/// directly to the weights.
public final class AdamW {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// Number of steps taken.
    public private(set) var step = 0
    private let firstMoments: [Tensor]
    private let secondMoments: [Tensor]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoments = parameters.map { Tensor(shape: $0.value.shape) }
        secondMoments = parameters.map { Tensor(shape: $0.value.shape) }
    }

    /// One update from the current gradients (which are left untouched).
    public func update() {
        step += 1
        let correction1 = 1 - pow(beta1, Float(step)), correction2 = 1 - pow(beta2, Float(step))
        let rate = learningRate, decay = 1 - learningRate * weightDecay
        let b1 = beta1, b2 = beta2, eps = epsilon
        for (index, parameter) in parameters.enumerated() {
            let w = parameter.value.pointer, g = parameter.gradient.pointer
            let m = firstMoments[index].pointer, v = secondMoments[index].pointer
            parallelChunks(parameter.value.count, grain: elementwiseGrain) { range in
                for i in range {
                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                    let mHat = m[i] / correction1, vHat = v[i] / correction2
                    w[i] = w[i] * decay - rate * mHat / (vHat.squareRoot() + eps)
                }
            }
        }
    }

    /// The optimiser state as named tensors (for checkpoints): "adam.m.<name>", "adam.v.<name>", "adam.step".
    public var state: [String: Tensor] {
        var result: [String: Tensor] = ["adam.step": Tensor(shape: [1], values: [Float(step)])]
        for (index, parameter) in parameters.enumerated() {
            result["adam.m." + parameter.name] = firstMoments[index]
            result["adam.v." + parameter.name] = secondMoments[index]
        }
        return result
    }

    /// Restores `state` saved by the same configuration; throws when a tensor is missing or misshapen.
    public func restore(_ saved: [String: Tensor]) throws {
        guard let stepTensor = saved["adam.step"] else { throw CheckpointError.missingTensor("adam.step") }
        for (index, parameter) in parameters.enumerated() {
            for (prefix, target) in [("adam.m.", firstMoments[index]), ("adam.v.", secondMoments[index])] {
                let name = prefix + parameter.name
                guard let tensor = saved[name] else { throw CheckpointError.missingTensor(name) }
                guard tensor.shape == target.shape else {
                    throw CheckpointError.shapeMismatch(name: name, expected: target.shape, found: tensor.shape)
                }
                target.assign(tensor)
            }
        }
        step = Int(stepTensor[0])
    }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm`; returns the
/// norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var total: Double = 0
    for parameter in parameters {
        let g = parameter.gradient.pointer
        for i in 0..<parameter.gradient.count { total += Double(g[i] * g[i]) }
    }
    let norm = Float(total.squareRoot())
    if norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for parameter in parameters {
            let g = parameter.gradient.pointer
            for i in 0..<parameter.gradient.count { g[i] *= scale }
        }
    }
    return norm
}

/// Linear warm-up from 0 to `peak` over `warmupSteps`, then cosine decay to `floor` at `totalSteps`.
public struct LearningRateSchedule: Sendable, Equatable {
    public var peak: Float, floor: Float
    public var warmupSteps: Int, totalSteps: Int

    public init(peak: Float, floor: Float = 0, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak
        self.floor = floor
        self.warmupSteps = warmupSteps
        self.totalSteps = max(totalSteps, 1)
    }

    /// The learning rate for step `step` (0-based).
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let span = max(totalSteps - warmupSteps, 1)
        let progress = min(Float(step - warmupSteps) / Float(span), 1)
        return floor + 0.5 * (peak - floor) * (1 + cos(Float.pi * progress))
    }
}

/// Exponential moving average of weights: shadow ← decay·shadow + (1 − decay)·weight.
public final class ExponentialMovingAverage {
    public let parameters: [Parameter]
    public let decay: Float
    /// Averaged copies, in the order of `parameters`.
    public let shadows: [Tensor]

    public init(parameters: [Parameter], decay: Float = 0.999) {
        self.parameters = parameters
        self.decay = decay
        shadows = parameters.map { $0.value.copy() }
    }

    public func update() {
        let d = decay
        for (parameter, shadow) in zip(parameters, shadows) {
            let w = parameter.value.pointer, s = shadow.pointer
            for i in 0..<shadow.count { s[i] = d * s[i] + (1 - d) * w[i] }
        }
    }

    /// Shadows as named tensors, "ema.<name>".
    public var state: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: zip(parameters, shadows).map { ("ema." + $0.name, $1) })
    }

    public func restore(_ saved: [String: Tensor]) throws {
        for (parameter, shadow) in zip(parameters, shadows) {
            let name = "ema." + parameter.name
            guard let tensor = saved[name] else { throw CheckpointError.missingTensor(name) }
            guard tensor.shape == shadow.shape else {
                throw CheckpointError.shapeMismatch(name: name, expected: shadow.shape, found: tensor.shape)
            }
            shadow.assign(tensor)
        }
    }
}
