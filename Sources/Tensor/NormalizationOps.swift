// Group normalisation (channels-last images) and layer normalisation (last dimension).

extension Variable {
    /// Group normalisation of x [batch, …, channels]: per sample, channels are split into
    /// `groups` and each group is normalised over its channels and all positions, then
    /// scaled by gamma [channels] and shifted by beta [channels].
    public static func groupNorm(_ x: Variable, groups: Int, gamma: Variable, beta: Variable,
                                 epsilon: Float = 1e-5) -> Variable {
        let channels = x.value.lastDimension, batch = x.shape[0]
        precondition(channels % groups == 0, "groupNorm: \(channels) channels in \(groups) groups")
        precondition(gamma.value.count == channels && beta.value.count == channels,
                     "groupNorm: gamma/beta must have \(channels) values")
        let positions = x.value.count / (batch * channels), width = channels / groups
        let count = Float(positions * width)
        let result = Tensor(uninitializedShape: x.shape)
        // Per sample and channel: the mean and inverse standard deviation of the channel's group.
        let mean = Tensor(uninitializedShape: [batch, channels])
        let inverseStd = Tensor(uninitializedShape: [batch, channels])
        let px = x.value.pointer, py = result.pointer, pg = gamma.value.pointer, pb = beta.value.pointer
        parallelChunks(batch, grain: 1) { samples in
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: 3 * channels)
            defer { sums.deallocate() }
            let scale = sums + channels, shift = sums + 2 * channels
            for b in samples {
                let base = px + b * positions * channels
                let mu = mean.pointer + b * channels, inv = inverseStd.pointer + b * channels
                // Two passes (mean, then centred squares) per channel, combined per group.
                sums.update(repeating: 0, count: channels)
                for p in 0..<positions { let row = base + p * channels; for c in 0..<channels { sums[c] += row[c] } }
                for g in 0..<groups {
                    var total: Float = 0
                    for c in g * width..<(g + 1) * width { total += sums[c] }
                    for c in g * width..<(g + 1) * width { mu[c] = total / count }
                }
                sums.update(repeating: 0, count: channels)
                for p in 0..<positions {
                    let row = base + p * channels
                    for c in 0..<channels { let d = row[c] - mu[c]; sums[c] += d * d }
                }
                for g in 0..<groups {
                    var total: Float = 0
                    for c in g * width..<(g + 1) * width { total += sums[c] }
                    let r = 1 / (total / count + epsilon).squareRoot()
                    for c in g * width..<(g + 1) * width { inv[c] = r }
                }
                // y = (x − μ)·r·γ + β as y = x·a + d with per-channel a, d.
                for c in 0..<channels {
                    scale[c] = inv[c] * pg[c]
                    shift[c] = pb[c] - mu[c] * scale[c]
                }
                let out = py + b * positions * channels
                for p in 0..<positions {
                    let row = base + p * channels, target = out + p * channels
                    for c in 0..<channels { target[c] = row[c] * scale[c] + shift[c] }
                }
            }
        }
        return Variable(result, inputs: [x, gamma, beta]) { gradient in
            let dy = gradient.pointer
            let dx = x.requiresGradient ? x.gradientBuffer().pointer : nil
            // Per-sample partial sums of dγ, dβ, merged after the parallel loop.
            let partialGamma = Tensor(shape: [batch, channels]), partialBeta = Tensor(shape: [batch, channels])
            parallelChunks(batch, grain: 1) { samples in
                let groupSums = UnsafeMutablePointer<Float>.allocate(capacity: 2 * channels)
                defer { groupSums.deallocate() }
                let sumD = groupSums, sumDX = groupSums + channels
                for b in samples {
                    let base = px + b * positions * channels, gBase = dy + b * positions * channels
                    let mu = mean.pointer + b * channels, inv = inverseStd.pointer + b * channels
                    let sg = partialGamma.pointer + b * channels, sb = partialBeta.pointer + b * channels
                    // Σ dy and Σ dy·x̂ per channel.
                    for p in 0..<positions {
                        let row = base + p * channels, grow = gBase + p * channels
                        for c in 0..<channels {
                            sb[c] += grow[c]
                            sg[c] += grow[c] * (row[c] - mu[c]) * inv[c]
                        }
                    }
                    guard let dx else { continue }
                    // dx = r/N · (N·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)), dx̂ = dy·γ, sums per group
                    // (stored per channel, divided by N).
                    for g in 0..<groups {
                        var d: Float = 0, dxh: Float = 0
                        for c in g * width..<(g + 1) * width { d += sb[c] * pg[c]; dxh += sg[c] * pg[c] }
                        for c in g * width..<(g + 1) * width { sumD[c] = d / count; sumDX[c] = dxh / count }
                    }
                    let out = dx + b * positions * channels
                    for p in 0..<positions {
                        let row = base + p * channels, grow = gBase + p * channels, target = out + p * channels
                        for c in 0..<channels {
                            let xhat = (row[c] - mu[c]) * inv[c]
                            target[c] += inv[c] * (grow[c] * pg[c] - sumD[c] - xhat * sumDX[c])
                        }
                    }
                }
            }
            if gamma.requiresGradient {
                addColumnSums(partialGamma.pointer, rows: batch, columns: channels, into: gamma.gradientBuffer().pointer)
            }
            if beta.requiresGradient {
                addColumnSums(partialBeta.pointer, rows: batch, columns: channels, into: beta.gradientBuffer().pointer)
            }
        }
    }

    /// Layer normalisation over the last dimension, scaled by gamma and shifted by beta
    /// (both [last dimension]).
    public static func layerNorm(_ x: Variable, gamma: Variable, beta: Variable, epsilon: Float = 1e-5) -> Variable {
        let width = x.value.lastDimension, rows = x.value.count / width
        precondition(gamma.value.count == width && beta.value.count == width,
                     "layerNorm: gamma/beta must have \(width) values")
        let result = Tensor(uninitializedShape: x.shape)
        let normalized = Tensor(uninitializedShape: x.shape)
        let inverseStd = Tensor(uninitializedShape: [rows])
        let px = x.value.pointer, py = result.pointer, pn = normalized.pointer
        let pg = gamma.value.pointer, pb = beta.value.pointer
        let grain = max(1, elementwiseGrain / width)
        parallelChunks(rows, grain: grain) { range in
            for r in range {
                let row = px + r * width, xhat = pn + r * width, out = py + r * width
                let mean = rowSum(row, count: width) / Float(width)
                let squares = rowSquaredDeviations(row, mean: mean, count: width)
                let inv = 1 / (squares / Float(width) + epsilon).squareRoot()
                inverseStd[r] = inv
                for j in 0..<width {
                    xhat[j] = (row[j] - mean) * inv
                    out[j] = xhat[j] * pg[j] + pb[j]
                }
            }
        }
        return Variable(result, inputs: [x, gamma, beta]) { gradient in
            let dy = gradient.pointer, pn = normalized.pointer
            if gamma.requiresGradient || beta.requiresGradient {
                let product = Tensor(uninitializedShape: x.shape)
                let pp = product.pointer
                parallelChunks(x.value.count, grain: elementwiseGrain) { range in
                    for i in range { pp[i] = dy[i] * pn[i] }
                }
                if gamma.requiresGradient { addColumnSums(pp, rows: rows, columns: width, into: gamma.gradientBuffer().pointer) }
                if beta.requiresGradient { addColumnSums(dy, rows: rows, columns: width, into: beta.gradientBuffer().pointer) }
            }
            guard x.requiresGradient else { return }
            let dx = x.gradientBuffer().pointer
            parallelChunks(rows, grain: grain) { range in
                let d = UnsafeMutablePointer<Float>.allocate(capacity: width)   // dx̂ = dy·γ of one row
                defer { d.deallocate() }
                for r in range {
                    let grow = dy + r * width, xhat = pn + r * width, target = dx + r * width
                    for j in 0..<width { d[j] = grow[j] * pg[j] }
                    let sumD = rowSum(d, count: width), sumDX = rowDot(d, xhat, count: width)
                    let inv = inverseStd[r], n = Float(width)
                    for j in 0..<width {
                        target[j] += inv * (d[j] - (sumD + xhat[j] * sumDX) / n)
                    }
                }
            }
        }
    }
}
