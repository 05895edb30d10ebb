// Scaled dot-product attention over [batch, time, features] with the heads interleaved in
// the feature dimension (head h owns features h·d ..< (h+1)·d), as after a fused QKV linear.

extension Variable {
    /// softmax(q·kᵀ/√d [+ causal mask]) · v per batch element and head, for q, k, v
    /// [batch, time, features] with features = heads · d. Returns [batch, time, features].
    public static func attention(query q: Variable, key k: Variable, value v: Variable, heads: Int,
                                 causal: Bool = false) -> Variable {
        precondition(q.value.rank == 3 && q.shape == k.shape && q.shape == v.shape,
                     "attention: q, k, v must share one [batch, time, features] shape: \(q.shape) \(k.shape) \(v.shape)")
        let batch = q.shape[0], time = q.shape[1], features = q.shape[2]
        precondition(features % heads == 0, "attention: \(features) features in \(heads) heads")
        let d = features / heads, scale = 1 / Float(d).squareRoot()
        let probabilities = Tensor(uninitializedShape: [batch, heads, time, time])
        let result = Tensor(uninitializedShape: q.shape)
        let pq = q.value.pointer, pk = k.value.pointer, pv = v.value.pointer
        let pp = probabilities.pointer, out = result.pointer
        for b in 0..<batch {
            for h in 0..<heads {
                let offset = b * time * features + h * d
                let scores = pp + (b * heads + h) * time * time
                gemm(transposeB: true, m: time, n: time, k: d, alpha: scale, pq + offset, lda: features,
                     pk + offset, ldb: features, beta: 0, scores, ldc: time)
                if causal {
                    for i in 0..<time { for j in (i + 1)..<max(time, i + 1) { scores[i * time + j] = -.infinity } }
                }
            }
        }
        softmaxRows(pp, pp, rows: batch * heads * time, width: time)
        for b in 0..<batch {
            for h in 0..<heads {
                let offset = b * time * features + h * d
                gemm(m: time, n: d, k: time, pp + (b * heads + h) * time * time, lda: time, pv + offset,
                     ldb: features, beta: 0, out + offset, ldc: features)
            }
        }
        return Variable(result, inputs: [q, k, v]) { gradient in
            let g = gradient.pointer, pp = probabilities.pointer
            let dq = q.requiresGradient ? q.gradientBuffer().pointer : nil
            let dk = k.requiresGradient ? k.gradientBuffer().pointer : nil
            let dv = v.requiresGradient ? v.gradientBuffer().pointer : nil
            let dScores = Tensor(uninitializedShape: [time, time])
            let upstream = Tensor(uninitializedShape: [time, time])
            for b in 0..<batch {
                for h in 0..<heads {
                    let offset = b * time * features + h * d
                    let p = pp + (b * heads + h) * time * time
                    if let dv {
                        gemm(transposeA: true, m: time, n: d, k: time, p, lda: time, g + offset, ldb: features,
                             beta: 1, dv + offset, ldc: features)
                    }
                    guard dq != nil || dk != nil else { continue }
                    // dP = dO · vᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale.
                    gemm(transposeB: true, m: time, n: time, k: d, g + offset, lda: features, pv + offset,
                         ldb: features, beta: 0, upstream.pointer, ldc: time)
                    dScores.fill(0)
                    softmaxBackwardRows(probabilities: p, gradient: upstream.pointer, into: dScores.pointer,
                                        rows: time, width: time, scale: scale)
                    if let dq {
                        gemm(m: time, n: d, k: time, dScores.pointer, lda: time, pk + offset, ldb: features,
                             beta: 1, dq + offset, ldc: features)
                    }
                    if let dk {
                        gemm(transposeA: true, m: time, n: d, k: time, dScores.pointer, lda: time, pq + offset,
                             ldb: features, beta: 1, dk + offset, ldc: features)
                    }
                }
            }
        }
    }
}
