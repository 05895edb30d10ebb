// The direct convolution's loops for patches of at most 16 values (the VAE's first layer:
// 3×3 over one channel, patch 9), where sgemm at K = 9 spends as long packing and scaling
// its operands as multiplying: 16 output channels per vector, 4 output columns at a time.

extension DirectConvolution {
    /// `forward` with four independent sums (four output columns) sharing each weight vector.
    func smallPatchForward(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
        let (outputs, run, step) = (g.outC, g.kernel * g.c, g.stride * g.c)
        parallelChunks(g.n * g.outH, grain: max(1, elementwiseGrain / (g.outW * outputs))) { imageRows in
            for imageRow in imageRows {
                let rows = (0..<g.kernel).map { patchRows(imageRow, $0) }
                for ox in stride(from: 0, to: g.outW, by: 4) {
                    let target = out + (imageRow * g.outW + ox) * outputs
                    var j = 0
                    while j < outputs {
                        let start = bias.map { load16($0 + j) } ?? SIMD16<Float>(repeating: 0)
                        var (a0, a1, a2, a3) = (start, start, start, start)
                        for ky in 0..<g.kernel {
                            let x = rows[ky] + ox * step, w = weight + ky * run * outputs + j
                            for q in 0..<run {
                                let weights = load16(w + q * outputs)
                                a0.addProduct(SIMD16<Float>(repeating: x[q]), weights)
                                a1.addProduct(SIMD16<Float>(repeating: x[step + q]), weights)
                                a2.addProduct(SIMD16<Float>(repeating: x[2 * step + q]), weights)
                                a3.addProduct(SIMD16<Float>(repeating: x[3 * step + q]), weights)
                            }
                        }
                        store16(a0, target + j)
                        store16(a1, target + outputs + j)
                        store16(a2, target + 2 * outputs + j)
                        store16(a3, target + 3 * outputs + j)
                        j += 16
                    }
                }
            }
        }
    }

    /// One block's parameter-gradient sums (`parameterGradients`): slots [patch + 1, outC],
    /// the last row the bias. Each sum over an image row runs in four interleaved partial sums.
    func smallPatchParameterGradients(_ dy: UnsafePointer<Float>, imageRows: Range<Int>, into slots: UnsafeMutablePointer<Float>,
                                      weight: Bool, bias: Bool) {
        let (outputs, patch, run, step) = (g.outC, g.patch, g.kernel * g.c, g.stride * g.c)
        for imageRow in imageRows {
            let rows = (0..<g.kernel).map { patchRows(imageRow, $0) }
            let gradient = dy + imageRow * g.outW * outputs
            var j = 0
            while j < outputs {
                // Row `patch` of the slots: the bias, a patch value of 1.
                for t in (weight ? 0 : patch)...(bias ? patch : patch - 1) {
                    let x = t < patch ? rows[t / run] + t % run : nil
                    var (s0, s1, s2, s3) = (SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0),
                                            SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0))
                    for ox in stride(from: 0, to: g.outW, by: 4) {
                        let d = gradient + ox * outputs + j
                        if let x {
                            let v = x + ox * step
                            s0.addProduct(SIMD16<Float>(repeating: v[0]), load16(d))
                            s1.addProduct(SIMD16<Float>(repeating: v[step]), load16(d + outputs))
                            s2.addProduct(SIMD16<Float>(repeating: v[2 * step]), load16(d + 2 * outputs))
                            s3.addProduct(SIMD16<Float>(repeating: v[3 * step]), load16(d + 3 * outputs))
                        } else {
                            s0 += load16(d); s1 += load16(d + outputs)
                            s2 += load16(d + 2 * outputs); s3 += load16(d + 3 * outputs)
                        }
                    }
                    let slot = slots + t * outputs + j
                    store16(load16(slot) + ((s0 + s1) + (s2 + s3)), slot)
                }
                j += 16
            }
        }
    }

    /// Image b's patch gradients dy · weightᵀ (one SIMD16 per pixel, four pixels at a time)
    /// added into its padded gradient image.
    /// `transposedWeight`: [outC, 16] (`transposedWeight(_:rowLength:)`).
    func smallPatchInputGradient(_ dy: UnsafePointer<Float>, image b: Int, transposedWeight: UnsafePointer<Float>,
                                 into image: UnsafeMutablePointer<Float>) {
        let (outputs, run, step, pw) = (g.outC, g.kernel * g.c, g.stride * g.c, paddedWidth * g.c)
        for oy in 0..<g.outH {
            for ox in stride(from: 0, to: g.outW, by: 4) {
                let gradient = dy + ((b * g.outH + oy) * g.outW + ox) * outputs
                var (d0, d1, d2, d3) = (SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0),
                                        SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0))
                for o in 0..<outputs {
                    let w = load16(transposedWeight + o * 16)
                    d0.addProduct(SIMD16<Float>(repeating: gradient[o]), w)
                    d1.addProduct(SIMD16<Float>(repeating: gradient[outputs + o]), w)
                    d2.addProduct(SIMD16<Float>(repeating: gradient[2 * outputs + o]), w)
                    d3.addProduct(SIMD16<Float>(repeating: gradient[3 * outputs + o]), w)
                }
                func scatter(_ d: SIMD16<Float>, pixel: Int) {
                    for ky in 0..<g.kernel {
                        let target = image + (oy * g.stride + ky) * pw + (ox + pixel) * step
                        for q in 0..<run { target[q] += d[ky * run + q] }
                    }
                }
                scatter(d0, pixel: 0)
                scatter(d1, pixel: 1)
                scatter(d2, pixel: 2)
                scatter(d3, pixel: 3)
            }
        }
    }
}
