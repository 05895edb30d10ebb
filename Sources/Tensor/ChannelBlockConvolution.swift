// The direct convolution's loops for stride-1 convolutions whose input and output channels
// are multiples of 16 (the VAE's full-resolution layers, 16–32 channels over 32×64 points),
// where sgemm's output is only 16–32 columns wide and it spends a third of its time copying
// the patch matrix that im2col wrote: register tiles of 8 output pixels × 32 output
// channels (16 vectors; 8 × 16 for a last block of 16 channels) read straight from the
// padded rows. The input gradient is the same correlation, of the padded output gradient
// with the flipped, transposed weight.

/// out[x, o] (+)= Σ over kernel rows r < `kernelRows` and patch-row values q < `run` of
/// input[r · rowStride + x · pixelStride + q] · weight[(r · run + q) · outputs + o], for
/// columns x < `columns` (a multiple of 8) and outputs o (a multiple of 16): one image row
/// of a stride-1 correlation of padded rows. The sums start from the bias, from 0 (bias
/// nil), or from what `out` holds (`accumulate`).
@inline(__always)
func correlateChannelBlocks(_ input: UnsafePointer<Float>, rowStride: Int, pixelStride: Int, kernelRows: Int, run: Int,
                            columns: Int, weight: UnsafePointer<Float>, outputs: Int, bias: UnsafePointer<Float>?,
                            accumulate: Bool, into out: UnsafeMutablePointer<Float>) {
    let s = pixelStride
    var j = 0
    while j + 32 <= outputs {
        for x0 in stride(from: 0, to: columns, by: 8) {
            let target = out + x0 * outputs + j
            var a = (SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0))
            if let bias { a = (load16(bias + j), load16(bias + j + 16)) }
            var (a00, a01, a10, a11, a20, a21, a30, a31) = (a.0, a.1, a.0, a.1, a.0, a.1, a.0, a.1)
            var (a40, a41, a50, a51, a60, a61, a70, a71) = (a.0, a.1, a.0, a.1, a.0, a.1, a.0, a.1)
            if accumulate {
                a00 = load16(target); a01 = load16(target + 16)
                a10 = load16(target + outputs); a11 = load16(target + outputs + 16)
                a20 = load16(target + 2 * outputs); a21 = load16(target + 2 * outputs + 16)
                a30 = load16(target + 3 * outputs); a31 = load16(target + 3 * outputs + 16)
                a40 = load16(target + 4 * outputs); a41 = load16(target + 4 * outputs + 16)
                a50 = load16(target + 5 * outputs); a51 = load16(target + 5 * outputs + 16)
                a60 = load16(target + 6 * outputs); a61 = load16(target + 6 * outputs + 16)
                a70 = load16(target + 7 * outputs); a71 = load16(target + 7 * outputs + 16)
            }
            for r in 0..<kernelRows {
                let x = input + r * rowStride + x0 * s, w = weight + r * run * outputs + j
                for q in 0..<run {
                    let w0 = load16(w + q * outputs), w1 = load16(w + q * outputs + 16), p = x + q
                    var v = SIMD16<Float>(repeating: p[0])
                    a00.addProduct(v, w0); a01.addProduct(v, w1)
                    v = SIMD16<Float>(repeating: p[s])
                    a10.addProduct(v, w0); a11.addProduct(v, w1)
                    v = SIMD16<Float>(repeating: p[2 * s])
                    a20.addProduct(v, w0); a21.addProduct(v, w1)
                    v = SIMD16<Float>(repeating: p[3 * s])
                    a30.addProduct(v, w0); a31.addProduct(v, w1)
                    v = SIMD16<Float>(repeating: p[4 * s])
                    a40.addProduct(v, w0); a41.addProduct(v, w1)
                    v = SIMD16<Float>(repeating: p[5 * s])
                    a50.addProduct(v, w0); a51.addProduct(v, w1)
                    v = SIMD16<Float>(repeating: p[6 * s])
                    a60.addProduct(v, w0); a61.addProduct(v, w1)
                    v = SIMD16<Float>(repeating: p[7 * s])
                    a70.addProduct(v, w0); a71.addProduct(v, w1)
                }
            }
            store16(a00, target); store16(a01, target + 16)
            store16(a10, target + outputs); store16(a11, target + outputs + 16)
            store16(a20, target + 2 * outputs); store16(a21, target + 2 * outputs + 16)
            store16(a30, target + 3 * outputs); store16(a31, target + 3 * outputs + 16)
            store16(a40, target + 4 * outputs); store16(a41, target + 4 * outputs + 16)
            store16(a50, target + 5 * outputs); store16(a51, target + 5 * outputs + 16)
            store16(a60, target + 6 * outputs); store16(a61, target + 6 * outputs + 16)
            store16(a70, target + 7 * outputs); store16(a71, target + 7 * outputs + 16)
        }
        j += 32
    }
    guard j < outputs else { return }
    // A last block of 16 channels: 8 pixels × one vector.
    for x0 in stride(from: 0, to: columns, by: 8) {
        let target = out + x0 * outputs + j
        let start = bias.map { load16($0 + j) } ?? SIMD16<Float>(repeating: 0)
        var (a0, a1, a2, a3, a4, a5, a6, a7) = (start, start, start, start, start, start, start, start)
        if accumulate {
            a0 = load16(target); a1 = load16(target + outputs)
            a2 = load16(target + 2 * outputs); a3 = load16(target + 3 * outputs)
            a4 = load16(target + 4 * outputs); a5 = load16(target + 5 * outputs)
            a6 = load16(target + 6 * outputs); a7 = load16(target + 7 * outputs)
        }
        for r in 0..<kernelRows {
            let x = input + r * rowStride + x0 * s, w = weight + r * run * outputs + j
            for q in 0..<run {
                let w0 = load16(w + q * outputs), p = x + q
                a0.addProduct(SIMD16<Float>(repeating: p[0]), w0)
                a1.addProduct(SIMD16<Float>(repeating: p[s]), w0)
                a2.addProduct(SIMD16<Float>(repeating: p[2 * s]), w0)
                a3.addProduct(SIMD16<Float>(repeating: p[3 * s]), w0)
                a4.addProduct(SIMD16<Float>(repeating: p[4 * s]), w0)
                a5.addProduct(SIMD16<Float>(repeating: p[5 * s]), w0)
                a6.addProduct(SIMD16<Float>(repeating: p[6 * s]), w0)
                a7.addProduct(SIMD16<Float>(repeating: p[7 * s]), w0)
            }
        }
        store16(a0, target); store16(a1, target + outputs)
        store16(a2, target + 2 * outputs); store16(a3, target + 3 * outputs)
        store16(a4, target + 4 * outputs); store16(a5, target + 5 * outputs)
        store16(a6, target + 6 * outputs); store16(a7, target + 7 * outputs)
    }
}

extension DirectConvolution {
    /// `forward`, one output image row at a time.
    func channelBlockForward(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
        parallelChunks(g.n * g.outH, grain: 1) { imageRows in
            for imageRow in imageRows {
                correlateChannelBlocks(patchRows(imageRow, 0), rowStride: paddedWidth * g.c, pixelStride: g.c,
                                       kernelRows: g.kernel, run: g.kernel * g.c, columns: g.outW, weight: weight,
                                       outputs: g.outC, bias: bias, accumulate: false, into: out + imageRow * g.outW * g.outC)
            }
        }
    }

    /// One block's parameter-gradient sums (`parameterGradients`): slots [patch + 1, outC],
    /// the last row the bias. Tiles of 8 patch entries × 32 output channels summed over
    /// the block's pixels in registers, then added into the slots.
    func channelBlockParameterGradients(_ dy: UnsafePointer<Float>, imageRows: Range<Int>,
                                        into slots: UnsafeMutablePointer<Float>, weight: Bool, bias: Bool) {
        let (outputs, run, c) = (g.outC, g.kernel * g.c, g.c)
        if weight {
            for ky in 0..<g.kernel {
                for q0 in stride(from: 0, to: run, by: 8) {
                    for j in stride(from: 0, to: outputs - outputs % 32, by: 32) {
                        let zero = SIMD16<Float>(repeating: 0)
                        var (s00, s01, s10, s11, s20, s21, s30, s31) = (zero, zero, zero, zero, zero, zero, zero, zero)
                        var (s40, s41, s50, s51, s60, s61, s70, s71) = (zero, zero, zero, zero, zero, zero, zero, zero)
                        for imageRow in imageRows {
                            let x = patchRows(imageRow, ky) + q0, d = dy + imageRow * g.outW * outputs + j
                            for ox in 0..<g.outW {
                                let d0 = load16(d + ox * outputs), d1 = load16(d + ox * outputs + 16), p = x + ox * c
                                var v = SIMD16<Float>(repeating: p[0])
                                s00.addProduct(v, d0); s01.addProduct(v, d1)
                                v = SIMD16<Float>(repeating: p[1])
                                s10.addProduct(v, d0); s11.addProduct(v, d1)
                                v = SIMD16<Float>(repeating: p[2])
                                s20.addProduct(v, d0); s21.addProduct(v, d1)
                                v = SIMD16<Float>(repeating: p[3])
                                s30.addProduct(v, d0); s31.addProduct(v, d1)
                                v = SIMD16<Float>(repeating: p[4])
                                s40.addProduct(v, d0); s41.addProduct(v, d1)
                                v = SIMD16<Float>(repeating: p[5])
                                s50.addProduct(v, d0); s51.addProduct(v, d1)
                                v = SIMD16<Float>(repeating: p[6])
                                s60.addProduct(v, d0); s61.addProduct(v, d1)
                                v = SIMD16<Float>(repeating: p[7])
                                s70.addProduct(v, d0); s71.addProduct(v, d1)
                            }
                        }
                        let slot = slots + (ky * run + q0) * outputs + j
                        for (i, (low, high)) in [(s00, s01), (s10, s11), (s20, s21), (s30, s31),
                                                 (s40, s41), (s50, s51), (s60, s61), (s70, s71)].enumerated() {
                            let row = slot + i * outputs
                            store16(load16(row) + low, row)
                            store16(load16(row + 16) + high, row + 16)
                        }
                    }
                }
                if outputs % 32 != 0 {
                    for q0 in stride(from: 0, to: run, by: 16) {
                        sixteenEntryGradients(dy, imageRows: imageRows, ky: ky, q0: q0, j: outputs - 16, into: slots)
                    }
                }
            }
        }
        if bias {
            let slot = slots + g.patch * outputs
            for j in stride(from: 0, to: outputs, by: 16) {
                var (s0, s1) = (SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0))
                for imageRow in imageRows {
                    let d = dy + imageRow * g.outW * outputs + j
                    for ox in stride(from: 0, to: g.outW, by: 2) {
                        s0 += load16(d + ox * outputs)
                        s1 += load16(d + (ox + 1) * outputs)
                    }
                }
                store16(load16(slot + j) + (s0 + s1), slot + j)
            }
        }
    }

    /// The weight-gradient sums of patch entries ky · run + q0 ..< + 16 and the last 16 output
    /// channels (j ..< j + 16) over the block, one vector per entry, added into the slots.
    @inline(__always)
    private func sixteenEntryGradients(_ dy: UnsafePointer<Float>, imageRows: Range<Int>, ky: Int, q0: Int, j: Int,
                                       into slots: UnsafeMutablePointer<Float>) {
        let (outputs, c) = (g.outC, g.c)
        let zero = SIMD16<Float>(repeating: 0)
        var (s0, s1, s2, s3, s4, s5, s6, s7) = (zero, zero, zero, zero, zero, zero, zero, zero)
        var (s8, s9, s10, s11, s12, s13, s14, s15) = (zero, zero, zero, zero, zero, zero, zero, zero)
        for imageRow in imageRows {
            let x = patchRows(imageRow, ky) + q0, d = dy + imageRow * g.outW * outputs + j
            for ox in 0..<g.outW {
                let d0 = load16(d + ox * outputs), p = x + ox * c
                s0.addProduct(SIMD16<Float>(repeating: p[0]), d0); s1.addProduct(SIMD16<Float>(repeating: p[1]), d0)
                s2.addProduct(SIMD16<Float>(repeating: p[2]), d0); s3.addProduct(SIMD16<Float>(repeating: p[3]), d0)
                s4.addProduct(SIMD16<Float>(repeating: p[4]), d0); s5.addProduct(SIMD16<Float>(repeating: p[5]), d0)
                s6.addProduct(SIMD16<Float>(repeating: p[6]), d0); s7.addProduct(SIMD16<Float>(repeating: p[7]), d0)
                s8.addProduct(SIMD16<Float>(repeating: p[8]), d0); s9.addProduct(SIMD16<Float>(repeating: p[9]), d0)
                s10.addProduct(SIMD16<Float>(repeating: p[10]), d0); s11.addProduct(SIMD16<Float>(repeating: p[11]), d0)
                s12.addProduct(SIMD16<Float>(repeating: p[12]), d0); s13.addProduct(SIMD16<Float>(repeating: p[13]), d0)
                s14.addProduct(SIMD16<Float>(repeating: p[14]), d0); s15.addProduct(SIMD16<Float>(repeating: p[15]), d0)
            }
        }
        let slot = slots + (ky * g.kernel * c + q0) * outputs + j
        for (i, sum) in [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15].enumerated() {
            store16(load16(slot + i * outputs) + sum, slot + i * outputs)
        }
    }

    /// dx [n, h, w, c] += the adjoint applied to dy, image by image: the gradient of the
    /// padded input is the correlation of dy — padded by 2p zero rows and by p columns as
    /// the longitude padding says (the wrap of a periodic padding is its own fold) — with
    /// the weight flipped in both kernel axes and transposed to [k, k, outC, c]. Its inner
    /// rows go straight into dx; the p padding rows on either side are folded onto the rows
    /// they were read from.
    func channelBlockInputGradient(_ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                   into dx: UnsafeMutablePointer<Float>, padding: Padding) {
        let (k, p, c, outputs, h, w) = (g.kernel, g.pad, g.c, g.outC, g.h, g.w)
        let flipped = Tensor(uninitializedShape: [k, k, outputs, c])
        for ky in 0..<k {
            for kx in 0..<k {
                let source = weight + ((k - 1 - ky) * k + (k - 1 - kx)) * c * outputs, target = flipped.pointer + (ky * k + kx) * outputs * c
                for ci in 0..<c { for o in 0..<outputs { target[o * c + ci] = source[ci * outputs + o] } }
            }
        }
        let gradientRow = (w + 2 * p) * outputs, gradientRows = h + 4 * p
        parallelChunks(g.n, grain: 1) { images in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: gradientRows * gradientRow + w * c) { buffer in
                let padded = buffer.baseAddress!, edgeRow = padded + gradientRows * gradientRow
                padded.update(repeating: 0, count: 2 * p * gradientRow)
                (padded + (h + 2 * p) * gradientRow).update(repeating: 0, count: 2 * p * gradientRow)
                for b in images {
                    for iy in 0..<h {
                        let row = padded + (iy + 2 * p) * gradientRow, source = dy + (b * h + iy) * w * outputs
                        copyFloats(row + p * outputs, from: source, count: w * outputs)
                        // Stride 1: dy's padding columns are the input's (`edgeColumns`).
                        for (column, input) in edgeColumns {
                            if let ix = input {
                                copyFloats(row + column * outputs, from: source + ix * outputs, count: outputs)
                            } else {
                                (row + column * outputs).update(repeating: 0, count: outputs)
                            }
                        }
                    }
                    // Padded-input row py = iy + p reads gradient rows py ..< py + k.
                    for py in 0..<(h + 2 * p) {
                        let inside = py >= p && py < h + p
                        guard inside || padding.latitude != .zero, let iy = padding.row(py - p, size: h) else { continue }
                        let target = dx + (b * h + iy) * w * c
                        correlateChannelBlocks(padded + py * gradientRow, rowStride: gradientRow, pixelStride: outputs,
                                               kernelRows: k, run: k * outputs, columns: w, weight: flipped.pointer,
                                               outputs: c, bias: nil, accumulate: inside, into: inside ? target : edgeRow)
                        if !inside { for i in 0..<(w * c) { target[i] += edgeRow[i] } }
                    }
                }
            }
        }
    }
}
