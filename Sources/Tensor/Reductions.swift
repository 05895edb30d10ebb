// Row reductions (sum, maximum, dot product, centred sum of squares) written with SIMD8
// partial results. A plain `total += x[j]` loop cannot vectorise (float addition is not
// reassociated), and softmax and LayerNorm spent most of their time in such loops. The
// partial sums change the rounding order only; the tests compare with Double references.

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Σ x[j] for j < n.
@inline(__always)
func rowSum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
    var partial = SIMD8<Float>(repeating: 0), j = 0
    while j + 8 <= n { partial += load8(x + j); j += 8 }
    var total = partial.sum()
    while j < n { total += x[j]; j += 1 }
    return total
}

/// max_j x[j] for j < n (−∞ when n = 0).
@inline(__always)
func rowMaximum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
    // Four independent running maxima (the generic SIMD `pointwiseMax` was not inlined).
    var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, j = 0
    while j + 4 <= n {
        m0 = max(m0, x[j]); m1 = max(m1, x[j + 1]); m2 = max(m2, x[j + 2]); m3 = max(m3, x[j + 3])
        j += 4
    }
    while j < n { m0 = max(m0, x[j]); j += 1 }
    return max(max(m0, m1), max(m2, m3))
}

/// Σ x[j]·y[j] for j < n.
@inline(__always)
func rowDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> Float {
    var partial = SIMD8<Float>(repeating: 0), j = 0
    while j + 8 <= n { partial += load8(x + j) * load8(y + j); j += 8 }
    var total = partial.sum()
    while j < n { total += x[j] * y[j]; j += 1 }
    return total
}

/// Σ (x[j] − mean)² for j < n.
@inline(__always)
func rowSquaredDeviations(_ x: UnsafePointer<Float>, mean: Float, count n: Int) -> Float {
    let centre = SIMD8<Float>(repeating: mean)
    var partial = SIMD8<Float>(repeating: 0), j = 0
    while j + 8 <= n { let d = load8(x + j) - centre; partial += d * d; j += 8 }
    var total = partial.sum()
    while j < n { let d = x[j] - mean; total += d * d; j += 1 }
    return total
}
