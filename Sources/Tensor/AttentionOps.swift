// Scaled dot-product attention over [batch, time, features] with the heads interleaved in
// the feature dimension (head h owns features h·d ..< (h+1)·d), as after a fused QKV linear.

extension Variable {
    /// softmax(q·kᵀ/√d [+ causal mask]) · v per batch element and head, for q [batch, queries,
    /// features] and k, v [batch, keys, features] with features = heads · d. Returns [batch,
    /// queries, features]. With `causal`, queries and keys must be the same months.
    public static func attention(query q: Variable, key k: Variable, value v: Variable, heads: Int,
                                 causal: Bool = false) -> Variable {
        precondition(q.value.rank == 3 && k.shape == v.shape && k.value.rank == 3
                         && q.shape[0] == k.shape[0] && q.shape[2] == k.shape[2],
                     "attention: q [batch, queries, features], k and v [batch, keys, features]: \(q.shape) \(k.shape) \(v.shape)")
        let batch = q.shape[0], queries = q.shape[1], keys = k.shape[1], features = q.shape[2]
        precondition(!causal || queries == keys, "attention: a causal mask needs as many queries as keys")
        precondition(features % heads == 0, "attention: \(features) features in \(heads) heads")
        let d = features / heads, scale = 1 / Float(d).squareRoot()
        let scoreCount = queries * keys
        let probabilities = Tensor(uninitializedShape: [batch, heads, queries, keys])
        let result = Tensor(uninitializedShape: q.shape)
        let pq = q.value.pointer, pk = k.value.pointer, pv = v.value.pointer
        let pp = probabilities.pointer, out = result.pointer
        // Offsets of head h of sequence b in the query and key/value tensors.
        func queryOffset(_ b: Int, _ h: Int) -> Int { b * queries * features + h * d }
        func keyOffset(_ b: Int, _ h: Int) -> Int { b * keys * features + h * d }
        for b in 0..<batch {
            for h in 0..<heads {
                let scores = pp + (b * heads + h) * scoreCount
                gemm(transposeB: true, m: queries, n: keys, k: d, alpha: scale, pq + queryOffset(b, h), lda: features,
                     pk + keyOffset(b, h), ldb: features, beta: 0, scores, ldc: keys)
                if causal {
                    for i in 0..<queries { for j in (i + 1)..<max(keys, i + 1) { scores[i * keys + j] = -.infinity } }
                }
            }
        }
        softmaxRows(pp, pp, rows: batch * heads * queries, width: keys)
        for b in 0..<batch {
            for h in 0..<heads {
                gemm(m: queries, n: d, k: keys, pp + (b * heads + h) * scoreCount, lda: keys, pv + keyOffset(b, h),
                     ldb: features, beta: 0, out + queryOffset(b, h), ldc: features)
            }
        }
        return Variable(result, inputs: [q, k, v]) { gradient in
            let g = gradient.pointer, pp = probabilities.pointer
            let dq = q.requiresGradient ? q.gradientBuffer().pointer : nil
            let dk = k.requiresGradient ? k.gradientBuffer().pointer : nil
            let dv = v.requiresGradient ? v.gradientBuffer().pointer : nil
            let dScores = Tensor(uninitializedShape: [queries, keys])
            let upstream = Tensor(uninitializedShape: [queries, keys])
            for b in 0..<batch {
                for h in 0..<heads {
                    let qo = queryOffset(b, h), ko = keyOffset(b, h)
                    let p = pp + (b * heads + h) * scoreCount
                    if let dv {
                        gemm(transposeA: true, m: keys, n: d, k: queries, p, lda: keys, g + qo, ldb: features,
                             beta: 1, dv + ko, ldc: features)
                    }
                    guard dq != nil || dk != nil else { continue }
                    // dP = dO · vᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale.
                    gemm(transposeB: true, m: queries, n: keys, k: d, g + qo, lda: features, pv + ko,
                         ldb: features, beta: 0, upstream.pointer, ldc: keys)
                    dScores.fill(0)
                    softmaxBackwardRows(probabilities: p, gradient: upstream.pointer, into: dScores.pointer,
                                        rows: queries, width: keys, scale: scale)
                    if let dq {
                        gemm(m: queries, n: d, k: keys, dScores.pointer, lda: keys, pk + ko, ldb: features,
                             beta: 1, dq + qo, ldc: features)
                    }
                    if let dk {
                        gemm(transposeA: true, m: keys, n: d, k: queries, dScores.pointer, lda: keys, pq + qo,
                             ldb: features, beta: 1, dk + ko, ldc: features)
                    }
                }
            }
        }
    }
}
