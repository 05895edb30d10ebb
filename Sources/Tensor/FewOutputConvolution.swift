// The direct convolution's loops for at most 4 output channels (the VAE's last layer: 3×3
// over 32 channels into one), where im2col writes a patch matrix of k²·c values per pixel
// for a matrix-vector product: dot products along the patch rows, 16 values per vector.

extension DirectConvolution {
    /// `forward`: for each output channel, four output columns' dot products at a time
    /// sharing each weight vector.
    func fewOutputForward(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
        let (outputs, patch, run, step) = (g.outC, g.patch, g.kernel * g.c, g.stride * g.c)
        let transposed = transposedWeight(weight, rowLength: patch)
        parallelChunks(g.n * g.outH, grain: max(1, elementwiseGrain / (g.outW * patch))) { imageRows in
            for imageRow in imageRows {
                let rows = (0..<g.kernel).map { patchRows(imageRow, $0) }
                for ox in stride(from: 0, to: g.outW, by: 4) {
                    let target = out + (imageRow * g.outW + ox) * outputs
                    for o in 0..<outputs {
                        var (a0, a1, a2, a3) = (SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0),
                                                SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0))
                        for ky in 0..<g.kernel {
                            let x = rows[ky] + ox * step, w = transposed.pointer + o * patch + ky * run
                            var q = 0
                            while q < run {
                                let weights = load16(w + q)
                                a0.addProduct(load16(x + q), weights)
                                a1.addProduct(load16(x + step + q), weights)
                                a2.addProduct(load16(x + 2 * step + q), weights)
                                a3.addProduct(load16(x + 3 * step + q), weights)
                                q += 16
                            }
                        }
                        let b = bias?[o] ?? 0
                        target[o] = b + a0.sum()
                        target[outputs + o] = b + a1.sum()
                        target[2 * outputs + o] = b + a2.sum()
                        target[3 * outputs + o] = b + a3.sum()
                    }
                }
            }
        }
    }

    /// One block's parameter-gradient sums (`parameterGradients`): slots [patch + 1, outC],
    /// the last row the bias. The weight sums run per output channel along the patch
    /// (four pixels per update), then go into the slots.
    func fewOutputParameterGradients(_ dy: UnsafePointer<Float>, imageRows: Range<Int>, into slots: UnsafeMutablePointer<Float>,
                                     weight: Bool, bias: Bool) {
        let (outputs, patch, run, step) = (g.outC, g.patch, g.kernel * g.c, g.stride * g.c)
        let sums = Tensor(shape: [outputs, patch])
        for imageRow in imageRows {
            let rows = (0..<g.kernel).map { patchRows(imageRow, $0) }
            for ox in stride(from: 0, to: g.outW, by: 4) {
                let gradient = dy + (imageRow * g.outW + ox) * outputs
                for o in 0..<outputs {
                    let (g0, g1, g2, g3) = (gradient[o], gradient[outputs + o], gradient[2 * outputs + o], gradient[3 * outputs + o])
                    if bias { slots[patch * outputs + o] += (g0 + g1) + (g2 + g3) }
                    guard weight else { continue }
                    for ky in 0..<g.kernel {
                        let x = rows[ky] + ox * step, slot = sums.pointer + o * patch + ky * run
                        var q = 0
                        while q < run {
                            var total = load16(slot + q)
                            total.addProduct(SIMD16<Float>(repeating: g0), load16(x + q))
                            total.addProduct(SIMD16<Float>(repeating: g1), load16(x + step + q))
                            total.addProduct(SIMD16<Float>(repeating: g2), load16(x + 2 * step + q))
                            total.addProduct(SIMD16<Float>(repeating: g3), load16(x + 3 * step + q))
                            store16(total, slot + q)
                            q += 16
                        }
                    }
                }
            }
        }
        if weight { for o in 0..<outputs { for t in 0..<patch { slots[t * outputs + o] += sums[o * patch + t] } } }
    }

    /// Image b's patch gradients dy[o] · weight[:, o] added into its padded gradient image,
    /// pixel by pixel (neighbouring pixels' patches overlap). `transposedWeight`: [outC, patch].
    func fewOutputInputGradient(_ dy: UnsafePointer<Float>, image b: Int, transposedWeight: UnsafePointer<Float>,
                                into image: UnsafeMutablePointer<Float>) {
        let (outputs, patch, run, step, pw) = (g.outC, g.patch, g.kernel * g.c, g.stride * g.c, paddedWidth * g.c)
        for oy in 0..<g.outH {
            for ox in 0..<g.outW {
                let gradient = dy + ((b * g.outH + oy) * g.outW + ox) * outputs
                for o in 0..<outputs {
                    let d = SIMD16<Float>(repeating: gradient[o])
                    for ky in 0..<g.kernel {
                        let target = image + (oy * g.stride + ky) * pw + ox * step, w = transposedWeight + o * patch + ky * run
                        var q = 0
                        while q < run {
                            store16(load16(target + q).addingProduct(d, load16(w + q)), target + q)
                            q += 16
                        }
                    }
                }
            }
        }
    }
}
