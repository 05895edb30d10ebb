// Element-wise kernels and their autodiff operations: add and multiply (with the two
// broadcasts the models need), scale, SiLU, GELU, softmax, dropout.

import RandomStreams

/// a += b (same element count).
func addInPlace(_ a: Tensor, _ b: Tensor) {
    precondition(a.count == b.count, "add: \(a.shape) and \(b.shape)")
    let pa = a.pointer, pb = b.pointer
    parallelChunks(a.count, grain: elementwiseGrain) { range in
        for i in range { pa[i] += pb[i] }
    }
}

/// a += scale * b (same element count).
func addScaledInPlace(_ a: Tensor, _ b: Tensor, scale: Float) {
    precondition(a.count == b.count, "add: \(a.shape) and \(b.shape)")
    let pa = a.pointer, pb = b.pointer
    parallelChunks(a.count, grain: elementwiseGrain) { range in
        for i in range { pa[i] += scale * pb[i] }
    }
}

/// How a smaller operand `y` lines up with `x` in a broadcast binary operation, viewing
/// x as [outer, middle, inner].
enum Broadcast: Equatable {
    /// Same shape.
    case none
    /// y ([inner]) repeats over the leading dimensions of x (bias, positional table).
    case trailing(inner: Int)
    /// y ([batch, 1, …, 1, channels]) repeats over the middle dimensions of x
    /// ([batch, …, channels]): per-sample conditioning such as a timestep embedding.
    case perSample(batch: Int, middle: Int, channels: Int)

    init(_ x: [Int], _ y: [Int]) {
        if x == y { self = .none; return }
        let yCount = Tensor.elementCount(y)
        let trimmed = Array(y.drop { $0 == 1 })
        if trimmed.count <= x.count, Array(x.suffix(trimmed.count)) == trimmed {
            self = .trailing(inner: yCount)
            return
        }
        if x.count >= 2, y.count == x.count || y.count == 2, y.first == x.first, y.last == x.last,
           y.dropFirst().dropLast().allSatisfy({ $0 == 1 }) {
            let batch = x[0], channels = x[x.count - 1]
            self = .perSample(batch: batch, middle: Tensor.elementCount(x) / (batch * channels),
                              channels: channels)
            return
        }
        preconditionFailure("cannot broadcast \(y) onto \(x)")
    }

    /// Calls body(xRange, yOffset) for each contiguous run of x that pairs with y[yOffset...].
    func forEachRun(count: Int, _ body: (Range<Int>, Int) -> Void) {
        switch self {
        case .none: body(0..<count, 0)
        case .trailing(let inner):
            for start in stride(from: 0, to: count, by: inner) { body(start..<(start + inner), 0) }
        case .perSample(let batch, let middle, let channels):
            for b in 0..<batch {
                for m in 0..<middle {
                    let start = (b * middle + m) * channels
                    body(start..<(start + channels), b * channels)
                }
            }
        }
    }

    /// Sums `gradient` (shaped like x) down to y's shape, accumulating into `target`.
    func reduce(_ gradient: Tensor, into target: Tensor) {
        let g = gradient.pointer, t = target.pointer
        if self == .none { addInPlace(target, gradient); return }
        forEachRun(count: gradient.count) { run, offset in
            var j = offset
            for i in run { t[j] += g[i]; j += 1 }
        }
    }
}

extension Variable {
    /// Element-wise sum; `rhs` may broadcast (see `Broadcast`).
    public static func + (lhs: Variable, rhs: Variable) -> Variable {
        let pattern = Broadcast(lhs.shape, rhs.shape)
        let result = Tensor(uninitializedShape: lhs.shape)
        let x = lhs.value.pointer, y = rhs.value.pointer, out = result.pointer
        if pattern == .none {
            parallelChunks(result.count, grain: elementwiseGrain) { range in
                for i in range { out[i] = x[i] + y[i] }
            }
        } else {
            pattern.forEachRun(count: result.count) { run, offset in
                var j = offset
                for i in run { out[i] = x[i] + y[j]; j += 1 }
            }
        }
        return Variable(result, inputs: [lhs, rhs]) { gradient in
            if lhs.requiresGradient { addInPlace(lhs.gradientBuffer(), gradient) }
            if rhs.requiresGradient { pattern.reduce(gradient, into: rhs.gradientBuffer()) }
        }
    }

    /// Element-wise difference of same-shaped variables.
    public static func - (lhs: Variable, rhs: Variable) -> Variable {
        precondition(lhs.shape == rhs.shape, "subtract: \(lhs.shape) and \(rhs.shape)")
        return lhs + rhs * -1
    }

    /// Element-wise product; `rhs` may broadcast (see `Broadcast`).
    public static func * (lhs: Variable, rhs: Variable) -> Variable {
        let pattern = Broadcast(lhs.shape, rhs.shape)
        let result = Tensor(uninitializedShape: lhs.shape)
        let x = lhs.value.pointer, y = rhs.value.pointer, out = result.pointer
        pattern.forEachRun(count: result.count) { run, offset in
            var j = offset
            for i in run { out[i] = x[i] * y[j]; j += 1 }
        }
        return Variable(result, inputs: [lhs, rhs]) { gradient in
            let g = gradient.pointer
            if lhs.requiresGradient {
                let dx = lhs.gradientBuffer().pointer
                pattern.forEachRun(count: gradient.count) { run, offset in
                    var j = offset
                    for i in run { dx[i] += g[i] * y[j]; j += 1 }
                }
            }
            if rhs.requiresGradient {
                let dy = rhs.gradientBuffer().pointer
                pattern.forEachRun(count: gradient.count) { run, offset in
                    var j = offset
                    for i in run { dy[j] += g[i] * x[i]; j += 1 }
                }
            }
        }
    }

    /// Multiplication by a constant.
    public static func * (lhs: Variable, scale: Float) -> Variable {
        let result = Tensor(uninitializedShape: lhs.shape)
        let x = lhs.value.pointer, out = result.pointer
        parallelChunks(result.count, grain: elementwiseGrain) { range in
            for i in range { out[i] = x[i] * scale }
        }
        return Variable(result, inputs: [lhs]) { gradient in
            addScaledInPlace(lhs.gradientBuffer(), gradient, scale: scale)
        }
    }

    /// Applies `F` element-wise; the pullback multiplies by F's derivative. Generic over a
    /// type (not a closure) so release builds specialise and vectorise the loops.
    private func map<F: ElementwiseFunction>(_: F.Type) -> Variable {
        let result = Tensor(uninitializedShape: shape)
        let x = value.pointer, out = result.pointer
        parallelChunks(result.count, grain: elementwiseGrain) { range in
            for i in range { out[i] = F.value(x[i]) }
        }
        return Variable(result, inputs: [self]) { gradient in
            let dx = self.gradientBuffer().pointer, g = gradient.pointer
            parallelChunks(gradient.count, grain: elementwiseGrain) { range in
                for i in range { dx[i] += g[i] * F.derivative(x[i]) }
            }
        }
    }

    /// SiLU (swish): x · σ(x).
    public func silu() -> Variable { map(SiLU.self) }

    /// GELU, exact form x · Φ(x) = x/2 · (1 + erf(x/√2)).
    public func gelu() -> Variable { map(GELU.self) }

    /// Exponential (used for the VAE's standard deviation e^{logvar/2}).
    public func exp() -> Variable {
        let result = Tensor(uninitializedShape: shape)
        let x = value.pointer, out = result.pointer
        for i in 0..<result.count { out[i] = FastMath.exp(x[i]) }
        return Variable(result, inputs: [self]) { gradient in
            let dx = self.gradientBuffer().pointer, g = gradient.pointer, out = result.pointer
            for i in 0..<gradient.count { dx[i] += g[i] * out[i] }
        }
    }

    /// Softmax over the last dimension.
    public func softmax() -> Variable {
        let width = value.lastDimension, rows = value.count / max(width, 1)
        let result = Tensor(uninitializedShape: shape)
        softmaxRows(value.pointer, result.pointer, rows: rows, width: width)
        return Variable(result, inputs: [self]) { gradient in
            softmaxBackwardRows(probabilities: result.pointer, gradient: gradient.pointer,
                                into: self.gradientBuffer().pointer, rows: rows, width: width, scale: 1)
        }
    }

    /// Inverted dropout: zeroes each element with probability `rate` and scales the rest
    /// by 1/(1 − rate). The mask comes from `random`.
    public func dropout(rate: Float, random: inout RandomStream) -> Variable {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)")
        if rate == 0 { return self }
        let mask = Tensor(uninitializedShape: shape)
        let keep = 1 / (1 - rate)
        for i in 0..<mask.count { mask[i] = random.uniform() < Double(rate) ? 0 : keep }
        return self * Variable(mask)
    }
}

/// Row-wise softmax of `rows` × `width` values (max-subtracted for stability).
func softmaxRows(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
    parallelChunks(rows, grain: max(1, elementwiseGrain / max(width, 1))) { range in
        // e^(x − max) goes to a scratch row first: written straight to `output`, which may be
        // `input`, the loop did not vectorise.
        let exponentials = UnsafeMutablePointer<Float>.allocate(capacity: width)
        defer { exponentials.deallocate() }
        for r in range {
            let x = input + r * width, y = output + r * width
            let peak = rowMaximum(x, count: width)
            for j in 0..<width { exponentials[j] = FastMath.exp(x[j] - peak) }
            let inverse = 1 / rowSum(exponentials, count: width)
            for j in 0..<width { y[j] = exponentials[j] * inverse }
        }
    }
}

/// dx += scale · p ⊙ (g − Σ_j g_j p_j), row-wise: the softmax pullback.
func softmaxBackwardRows(probabilities p: UnsafePointer<Float>, gradient g: UnsafePointer<Float>,
                         into dx: UnsafeMutablePointer<Float>, rows: Int, width: Int, scale: Float) {
    parallelChunks(rows, grain: max(1, elementwiseGrain / max(width, 1))) { range in
        for r in range {
            let pr = p + r * width, gr = g + r * width, dr = dx + r * width
            let dot = rowDot(gr, pr, count: width)
            for j in 0..<width { dr[j] += scale * pr[j] * (gr[j] - dot) }
        }
    }
}

/// A scalar function with its derivative, applied by `Variable.map`.
protocol ElementwiseFunction {
    static func value(_ x: Float) -> Float
    static func derivative(_ x: Float) -> Float
}

enum SiLU: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float) -> Float { x * FastMath.sigmoid(x) }
    @inline(__always) static func derivative(_ x: Float) -> Float {
        let s = FastMath.sigmoid(x)
        return s * (1 + x * (1 - s))
    }
}

enum GELU: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float) -> Float {
        0.5 * x * (1 + FastMath.erf(x * 0.707_106_78))
    }
    @inline(__always) static func derivative(_ x: Float) -> Float {
        let cdf = 0.5 * (1 + FastMath.erf(x * 0.707_106_78))
        return cdf + x * 0.398_942_28 * FastMath.exp(-0.5 * x * x)
    }
}
