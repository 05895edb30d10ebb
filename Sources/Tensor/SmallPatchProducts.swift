// The two products of a convolution whose patch is only a few values long (the VAE's first
// layer: 3×3 over one channel, patch 9), written as direct SIMD loops over the output
// channels. With k = 9, sgemm spends as long packing and scaling its operands as
// multiplying, and the bias needs passes of its own over the output and its gradient; here
// each product is one pass that also handles the bias.

/// Patches at most this long take the direct loops (when the output channels are a multiple of 8).
let smallPatchLimit = 16

/// Whether `conv2d` computes this geometry's products with the direct loops.
@inline(__always)
func usesSmallPatchProducts(_ g: ConvolutionGeometry) -> Bool {
    !g.isPointwise && g.patch <= smallPatchLimit && g.outC % 8 == 0
}

@inline(__always)
private func store8(_ value: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD8<Float>.self)
}

/// out[r, :] = bias + Σ_t patches[r, t] · weight[t, :] for r < rows, t < patch; weight
/// [patch, outputs] with outputs a multiple of 8, bias [outputs] or nil (zero).
func smallPatchProduct(_ patches: UnsafePointer<Float>, rows: Int, patch: Int,
                       weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputs: Int,
                       into out: UnsafeMutablePointer<Float>) {
    precondition(outputs % 8 == 0 && patch <= smallPatchLimit)
    parallelChunks(rows, grain: max(1, elementwiseGrain / outputs)) { range in
        for r in range {
            let row = patches + r * patch, target = out + r * outputs
            var j = 0
            while j < outputs {
                var total = bias.map { load8($0 + j) } ?? SIMD8<Float>(repeating: 0)
                for t in 0..<patch {
                    total.addProduct(SIMD8<Float>(repeating: row[t]), load8(weight + t * outputs + j))
                }
                store8(total, target + j)
                j += 8
            }
        }
    }
}

/// weightGradient[t, :] += Σ_r patches[r, t] · gradient[r, :] and biasGradient[:] +=
/// Σ_r gradient[r, :] (either may be nil), in one pass over `gradient` [rows, outputs].
/// Rows are summed in blocks of 256 whose totals are then added, which keeps the rounding
/// error of the long sums near that of a blocked GEMM.
func smallPatchGradients(_ patches: UnsafePointer<Float>, _ gradient: UnsafePointer<Float>, rows: Int, patch: Int,
                         outputs: Int, weightGradient: UnsafeMutablePointer<Float>?,
                         biasGradient: UnsafeMutablePointer<Float>?) {
    precondition(outputs % 8 == 0 && patch <= smallPatchLimit)
    // Block sums: `patch` rows for the weight, one more for the bias, each `outputs` wide.
    let width = (patch + 1) * outputs
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * width) { buffer in
        let block = buffer.baseAddress!, total = block + width
        total.update(repeating: 0, count: width)
        var start = 0
        while start < rows {
            let end = min(rows, start + 256)
            block.update(repeating: 0, count: width)
            for r in start..<end {
                let row = patches + r * patch, dy = gradient + r * outputs
                var j = 0
                while j < outputs {
                    let g = load8(dy + j)
                    if weightGradient != nil {
                        for t in 0..<patch {
                            let slot = block + t * outputs + j
                            store8(load8(slot).addingProduct(SIMD8<Float>(repeating: row[t]), g), slot)
                        }
                    }
                    if biasGradient != nil {
                        let biasSlot = block + patch * outputs + j
                        store8(load8(biasSlot) + g, biasSlot)
                    }
                    j += 8
                }
            }
            for i in 0..<width { total[i] += block[i] }
            start = end
        }
        if let weightGradient {
            for i in 0..<(patch * outputs) { weightGradient[i] += total[i] }
        }
        if let biasGradient {
            for j in 0..<outputs { biasGradient[j] += total[patch * outputs + j] }
        }
    }
}
