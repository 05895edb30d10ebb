// Scaled dot-product attention over [batch, time, features] with the heads interleaved in
// the feature dimension (head h owns features h·d ..< (h+1)·d). Queries, keys and values
// may be column blocks of one tensor (a fused QKV projection's output), read in place.

/// Where one attention operand sits: columns offset..<offset+features of every row of
/// `variable` ([batch, time, row width]).
private struct AttentionOperand {
    let variable: Variable
    let offset: Int
    var rowWidth: Int { variable.value.lastDimension }
    var time: Int { variable.shape[1] }
}

extension Variable {
    /// softmax(q·kᵀ/√d [+ causal mask]) · v per batch element and head, for q [batch, queries,
    /// features] and k, v [batch, keys, features] with features = heads · d. Returns [batch,
    /// queries, features]. With `causal`, queries and keys must be the same months.
    public static func attention(query q: Variable, key k: Variable, value v: Variable, heads: Int,
                                 causal: Bool = false) -> Variable {
        precondition(q.value.rank == 3 && k.shape == v.shape && k.value.rank == 3
                         && q.shape[0] == k.shape[0] && q.shape[2] == k.shape[2],
                     "attention: q [batch, queries, features], k and v [batch, keys, features]: \(q.shape) \(k.shape) \(v.shape)")
        return attention(AttentionOperand(variable: q, offset: 0), AttentionOperand(variable: k, offset: 0),
                         AttentionOperand(variable: v, offset: 0), features: q.shape[2], heads: heads, causal: causal)
    }

    /// Self-attention on the output of a fused QKV projection, qkv [batch, time, 3 · features]
    /// (q, k, v in that order along the last dimension), read in place. Returns [batch, time, features].
    public static func attention(fusedQKV qkv: Variable, heads: Int, causal: Bool = false) -> Variable {
        precondition(qkv.value.rank == 3 && qkv.shape[2] % 3 == 0, "attention: fused qkv [batch, time, 3·features], got \(qkv.shape)")
        let features = qkv.shape[2] / 3
        return attention(AttentionOperand(variable: qkv, offset: 0), AttentionOperand(variable: qkv, offset: features),
                         AttentionOperand(variable: qkv, offset: 2 * features), features: features, heads: heads,
                         causal: causal)
    }

    /// Attention of q [batch, queries, features] over fused keys and values kv [batch, keys,
    /// 2 · features] (k then v), read in place. Returns [batch, queries, features].
    public static func attention(query q: Variable, fusedKeyValue kv: Variable, heads: Int) -> Variable {
        precondition(q.value.rank == 3 && kv.value.rank == 3 && q.shape[0] == kv.shape[0] && kv.shape[2] == 2 * q.shape[2],
                     "attention: q [batch, queries, features] and kv [batch, keys, 2·features]: \(q.shape) \(kv.shape)")
        let features = q.shape[2]
        return attention(AttentionOperand(variable: q, offset: 0), AttentionOperand(variable: kv, offset: 0),
                         AttentionOperand(variable: kv, offset: features), features: features, heads: heads, causal: false)
    }

    private static func attention(_ q: AttentionOperand, _ k: AttentionOperand, _ v: AttentionOperand, features: Int,
                                  heads: Int, causal: Bool) -> Variable {
        let batch = q.variable.shape[0], queries = q.time, keys = k.time
        precondition(!causal || queries == keys, "attention: a causal mask needs as many queries as keys")
        precondition(features % heads == 0, "attention: \(features) features in \(heads) heads")
        let d = features / heads, scale = 1 / Float(d).squareRoot()
        let scoreCount = queries * keys
        let probabilities = Tensor(uninitializedShape: [batch, heads, queries, keys])
        let result = Tensor(uninitializedShape: [batch, queries, features])
        let lq = q.rowWidth, lk = k.rowWidth, lv = v.rowWidth
        let pq = q.variable.value.pointer + q.offset, pk = k.variable.value.pointer + k.offset
        let pv = v.variable.value.pointer + v.offset
        let pp = probabilities.pointer, out = result.pointer
        // Offsets of head h of sequence b in each operand and in the result.
        func queryOffset(_ b: Int, _ h: Int) -> Int { b * queries * lq + h * d }
        func keyOffset(_ b: Int, _ h: Int) -> Int { b * keys * lk + h * d }
        func valueOffset(_ b: Int, _ h: Int) -> Int { b * keys * lv + h * d }
        func resultOffset(_ b: Int, _ h: Int) -> Int { b * queries * features + h * d }
        for b in 0..<batch {
            for h in 0..<heads {
                let scores = pp + (b * heads + h) * scoreCount
                gemm(transposeB: true, m: queries, n: keys, k: d, alpha: scale, pq + queryOffset(b, h), lda: lq,
                     pk + keyOffset(b, h), ldb: lk, beta: 0, scores, ldc: keys)
                if causal {
                    for i in 0..<queries { for j in (i + 1)..<max(keys, i + 1) { scores[i * keys + j] = -.infinity } }
                }
            }
        }
        softmaxRows(pp, pp, rows: batch * heads * queries, width: keys)
        for b in 0..<batch {
            for h in 0..<heads {
                gemm(m: queries, n: d, k: keys, pp + (b * heads + h) * scoreCount, lda: keys, pv + valueOffset(b, h),
                     ldb: lv, beta: 0, out + resultOffset(b, h), ldc: features)
            }
        }
        var operands: [Variable] = [q.variable]
        for operand in [k.variable, v.variable] where !operands.contains(where: { $0 === operand }) { operands.append(operand) }
        return Variable(result, inputs: operands) { gradient in
            let g = gradient.pointer, pp = probabilities.pointer
            let dq = q.variable.requiresGradient ? q.variable.gradientBuffer().pointer + q.offset : nil
            let dk = k.variable.requiresGradient ? k.variable.gradientBuffer().pointer + k.offset : nil
            let dv = v.variable.requiresGradient ? v.variable.gradientBuffer().pointer + v.offset : nil
            let dScores = Tensor(uninitializedShape: [queries, keys])
            let upstream = Tensor(uninitializedShape: [queries, keys])
            for b in 0..<batch {
                for h in 0..<heads {
                    let go = resultOffset(b, h), qo = queryOffset(b, h), ko = keyOffset(b, h), vo = valueOffset(b, h)
                    let p = pp + (b * heads + h) * scoreCount
                    if let dv {
                        gemm(transposeA: true, m: keys, n: d, k: queries, p, lda: keys, g + go, ldb: features,
                             beta: 1, dv + vo, ldc: lv)
                    }
                    guard dq != nil || dk != nil else { continue }
                    // dP = dO · vᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale.
                    gemm(transposeB: true, m: queries, n: keys, k: d, g + go, lda: features, pv + vo,
                         ldb: lv, beta: 0, upstream.pointer, ldc: keys)
                    dScores.fill(0)
                    softmaxBackwardRows(probabilities: p, gradient: upstream.pointer, into: dScores.pointer,
                                        rows: queries, width: keys, scale: scale)
                    if let dq {
                        gemm(m: queries, n: d, k: keys, dScores.pointer, lda: keys, pk + ko, ldb: lk,
                             beta: 1, dq + qo, ldc: lq)
                    }
                    if let dk {
                        gemm(transposeA: true, m: keys, n: d, k: queries, dScores.pointer, lda: keys, pq + qo,
                             ldb: lq, beta: 1, dk + ko, ldc: lk)
                    }
                }
            }
        }
    }
}
