// Dense layers on OpenBLAS: general matrix products and the affine map of `Linear`.

import CBLAS

/// C = alpha · op(A) · op(B) + beta · C, row-major (cblas_sgemm).
@inline(__always)
func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
          _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
          beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// out[j] += Σ_i matrix[i, j] over a rows × columns matrix (bias gradients), via sgemv.
func addColumnSums(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
    let ones = [Float](repeating: 1, count: rows)
    cblas_sgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1, matrix, Int32(columns),
                ones, 1, 1, out, 1)
}

/// Writes `bias` ([columns]) into every row of a rows × columns matrix.
func broadcastRows(_ bias: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    parallelChunks(rows, grain: max(1, elementwiseGrain / max(columns, 1))) { range in
        for r in range { copyFloats(out + r * columns, from: bias, count: columns) }
    }
}

extension Variable {
    /// Affine map over the last dimension: x [..., in] · weightᵀ + bias → [..., out], with
    /// weight [out, in] (PyTorch's layout) and bias [out] (optional). With `outputs`, only
    /// those rows of weight and bias are used: [..., outputs.count] (e.g. the queries of a
    /// fused QKV projection). With `inputs`, x holds only those inputs of the weight:
    /// x [..., inputs.count] times the columns `inputs` (one part of a concatenated input).
    /// Inside `RowStableProducts.enabled` the forward is row-stable (`rowStableProduct`).
    public static func linear(_ x: Variable, weight: Variable, bias: Variable?, outputs: Range<Int>? = nil,
                              inputs: Range<Int>? = nil) -> Variable {
        let allInputs = weight.shape.count == 2 ? weight.shape[1] : 0, allOutputs = weight.shape[0]
        let usedInputs = inputs ?? 0..<allInputs
        precondition(weight.shape.count == 2 && usedInputs.lowerBound >= 0 && usedInputs.upperBound <= allInputs
                     && usedInputs.count == x.value.lastDimension, "linear: weight \(weight.shape) for input \(x.shape), inputs \(usedInputs)")
        let used = outputs ?? 0..<allOutputs
        precondition(used.lowerBound >= 0 && used.upperBound <= allOutputs, "linear: outputs \(used) of \(allOutputs)")
        let k = usedInputs.count, rows = x.value.count / max(k, 1), width = used.count
        // Offset of weight[used.lowerBound, usedInputs.lowerBound]; rows of the weight are allInputs apart.
        let weightStart = used.lowerBound * allInputs + usedInputs.lowerBound
        let result = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [width])
        if let cache = RowStableProducts.weights {
            rowStableLinear(x.value, rows: rows, weight: weight.value, bias: bias?.value, inputs: usedInputs, outputs: used,
                            weights: cache, into: result)
        } else {
            if let bias {
                broadcastRows(bias.value.pointer + used.lowerBound, into: result.pointer, rows: rows, columns: width)
            }
            gemm(transposeB: true, m: rows, n: width, k: k, x.value.pointer, lda: k,
                 weight.value.pointer + weightStart, ldb: allInputs, beta: bias == nil ? 0 : 1, result.pointer, ldc: width)
        }
        let operands = bias.map { [x, weight, $0] } ?? [x, weight]
        return Variable(result, inputs: operands) { gradient in
            let g = gradient.pointer
            if x.requiresGradient {
                gemm(m: rows, n: k, k: width, g, lda: width, weight.value.pointer + weightStart, ldb: allInputs,
                     beta: 1, x.gradientBuffer().pointer, ldc: k)
            }
            if weight.requiresGradient {
                gemm(transposeA: true, m: width, n: k, k: rows, g, lda: width, x.value.pointer,
                     ldb: k, beta: 1, weight.gradientBuffer().pointer + weightStart, ldc: allInputs)
            }
            if let bias, bias.requiresGradient {
                addColumnSums(g, rows: rows, columns: width, into: bias.gradientBuffer().pointer + used.lowerBound)
            }
        }
    }

    /// Matrix product over the last two dimensions: a [..., m, k] · b [..., k, n] → [..., m, n].
    /// `b` either has the same leading (batch) dimensions as `a` or is a single [k, n] matrix.
    public static func matmul(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.value.rank >= 2 && b.value.rank >= 2, "matmul needs matrices: \(a.shape) · \(b.shape)")
        let m = a.shape[a.value.rank - 2], k = a.shape[a.value.rank - 1]
        let n = b.shape[b.value.rank - 1]
        precondition(b.shape[b.value.rank - 2] == k, "matmul: \(a.shape) · \(b.shape)")
        let batch = a.value.count / (m * k)
        let sharedB = b.value.rank == 2
        precondition(sharedB || b.value.count / (k * n) == batch, "matmul batch: \(a.shape) · \(b.shape)")
        let result = Tensor(uninitializedShape: Array(a.shape.dropLast()) + [n])
        let pa = a.value.pointer, pb = b.value.pointer, pc = result.pointer
        if sharedB {
            gemm(m: batch * m, n: n, k: k, pa, lda: k, pb, ldb: n, beta: 0, pc, ldc: n)
        } else {
            for i in 0..<batch {
                gemm(m: m, n: n, k: k, pa + i * m * k, lda: k, pb + i * k * n, ldb: n, beta: 0,
                     pc + i * m * n, ldc: n)
            }
        }
        return Variable(result, inputs: [a, b]) { gradient in
            let g = gradient.pointer
            if a.requiresGradient {
                let da = a.gradientBuffer().pointer
                if sharedB {
                    gemm(transposeB: true, m: batch * m, n: k, k: n, g, lda: n, pb, ldb: n, beta: 1, da, ldc: k)
                } else {
                    for i in 0..<batch {
                        gemm(transposeB: true, m: m, n: k, k: n, g + i * m * n, lda: n, pb + i * k * n, ldb: n,
                             beta: 1, da + i * m * k, ldc: k)
                    }
                }
            }
            if b.requiresGradient {
                let db = b.gradientBuffer().pointer
                if sharedB {
                    gemm(transposeA: true, m: k, n: n, k: batch * m, pa, lda: k, g, ldb: n, beta: 1, db, ldc: n)
                } else {
                    for i in 0..<batch {
                        gemm(transposeA: true, m: k, n: n, k: m, pa + i * m * k, lda: k, g + i * m * n, ldb: n,
                             beta: 1, db + i * k * n, ldc: n)
                    }
                }
            }
        }
    }
}
