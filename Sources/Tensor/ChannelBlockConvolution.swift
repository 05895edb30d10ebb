// The direct convolution's loops for 3×3 stride-1 convolutions whose input and output
// channels are multiples of 16 (every stride-1 layer of the VAEs; at full resolution, 16–32
// channels over 32×64 points, sgemm's output is only 16–32 columns wide and it spends a
// third of its time copying the patch matrix that im2col wrote): register tiles of 8
// output pixels × 32 output channels (16 vectors; 8 × 16 for a last block of 16 channels)
// read straight from the padded rows. The input gradient is the same correlation, of the
// padded output gradient with the flipped, transposed weight.

/// Eight rows of 32 sums in 16 vector registers (row i: `low.i`, `high.i`, columns 0–15 and
/// 16–31): the register tile of the channel-block loops. Rows are output pixels in the
/// forward and patch entries in the weight gradient.
struct SumTile8x32 {
    var low: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
              SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
    var high: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
               SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

    /// Every row starts from (first, second).
    @inline(__always)
    init(_ first: SIMD16<Float>, _ second: SIMD16<Float>) {
        low = (first, first, first, first, first, first, first, first)
        high = (second, second, second, second, second, second, second, second)
    }

    /// Row i from p + i · rowStride.
    @inline(__always)
    init(loading p: UnsafePointer<Float>, rowStride r: Int) {
        low = (load16(p), load16(p + r), load16(p + 2 * r), load16(p + 3 * r),
               load16(p + 4 * r), load16(p + 5 * r), load16(p + 6 * r), load16(p + 7 * r))
        high = (load16(p + 16), load16(p + r + 16), load16(p + 2 * r + 16), load16(p + 3 * r + 16),
                load16(p + 4 * r + 16), load16(p + 5 * r + 16), load16(p + 6 * r + 16), load16(p + 7 * r + 16))
    }

    /// Row i += x[i · stride] · (first, second).
    @inline(__always)
    mutating func addProducts(_ x: UnsafePointer<Float>, stride s: Int, _ first: SIMD16<Float>, _ second: SIMD16<Float>) {
        @inline(__always)
        func add(_ low: inout SIMD16<Float>, _ high: inout SIMD16<Float>, _ value: Float) {
            let v = SIMD16<Float>(repeating: value)
            low.addProduct(v, first)
            high.addProduct(v, second)
        }
        add(&low.0, &high.0, x[0]); add(&low.1, &high.1, x[s])
        add(&low.2, &high.2, x[2 * s]); add(&low.3, &high.3, x[3 * s])
        add(&low.4, &high.4, x[4 * s]); add(&low.5, &high.5, x[5 * s])
        add(&low.6, &high.6, x[6 * s]); add(&low.7, &high.7, x[7 * s])
    }

    /// Row i to p + i · rowStride, or added to what is there.
    @inline(__always)
    func store(_ p: UnsafeMutablePointer<Float>, rowStride r: Int, adding: Bool = false) {
        var tile = self
        if adding {
            let old = SumTile8x32(loading: p, rowStride: r)
            tile.low = (low.0 + old.low.0, low.1 + old.low.1, low.2 + old.low.2, low.3 + old.low.3,
                        low.4 + old.low.4, low.5 + old.low.5, low.6 + old.low.6, low.7 + old.low.7)
            tile.high = (high.0 + old.high.0, high.1 + old.high.1, high.2 + old.high.2, high.3 + old.high.3,
                         high.4 + old.high.4, high.5 + old.high.5, high.6 + old.high.6, high.7 + old.high.7)
        }
        store16(tile.low.0, p); store16(tile.high.0, p + 16)
        store16(tile.low.1, p + r); store16(tile.high.1, p + r + 16)
        store16(tile.low.2, p + 2 * r); store16(tile.high.2, p + 2 * r + 16)
        store16(tile.low.3, p + 3 * r); store16(tile.high.3, p + 3 * r + 16)
        store16(tile.low.4, p + 4 * r); store16(tile.high.4, p + 4 * r + 16)
        store16(tile.low.5, p + 5 * r); store16(tile.high.5, p + 5 * r + 16)
        store16(tile.low.6, p + 6 * r); store16(tile.high.6, p + 6 * r + 16)
        store16(tile.low.7, p + 7 * r); store16(tile.high.7, p + 7 * r + 16)
    }
}

/// `SumTile8x32` for a last block of 16 columns: eight rows of one vector.
struct SumTile8x16 {
    var rows: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
               SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

    @inline(__always)
    init(_ first: SIMD16<Float>) { rows = (first, first, first, first, first, first, first, first) }

    @inline(__always)
    init(loading p: UnsafePointer<Float>, rowStride r: Int) {
        rows = (load16(p), load16(p + r), load16(p + 2 * r), load16(p + 3 * r),
                load16(p + 4 * r), load16(p + 5 * r), load16(p + 6 * r), load16(p + 7 * r))
    }

    @inline(__always)
    mutating func addProducts(_ x: UnsafePointer<Float>, stride s: Int, _ first: SIMD16<Float>) {
        rows.0.addProduct(SIMD16<Float>(repeating: x[0]), first)
        rows.1.addProduct(SIMD16<Float>(repeating: x[s]), first)
        rows.2.addProduct(SIMD16<Float>(repeating: x[2 * s]), first)
        rows.3.addProduct(SIMD16<Float>(repeating: x[3 * s]), first)
        rows.4.addProduct(SIMD16<Float>(repeating: x[4 * s]), first)
        rows.5.addProduct(SIMD16<Float>(repeating: x[5 * s]), first)
        rows.6.addProduct(SIMD16<Float>(repeating: x[6 * s]), first)
        rows.7.addProduct(SIMD16<Float>(repeating: x[7 * s]), first)
    }

    @inline(__always)
    func store(_ p: UnsafeMutablePointer<Float>, rowStride r: Int, adding: Bool = false) {
        var t = rows
        if adding {
            let old = SumTile8x16(loading: p, rowStride: r).rows
            t = (t.0 + old.0, t.1 + old.1, t.2 + old.2, t.3 + old.3, t.4 + old.4, t.5 + old.5, t.6 + old.6, t.7 + old.7)
        }
        store16(t.0, p); store16(t.1, p + r); store16(t.2, p + 2 * r); store16(t.3, p + 3 * r)
        store16(t.4, p + 4 * r); store16(t.5, p + 5 * r); store16(t.6, p + 6 * r); store16(t.7, p + 7 * r)
    }
}

/// out[x, o] (+)= Σ over kernel rows r < `kernelRows` and patch-row values q < `run` of
/// input[r · rowStride + x · pixelStride + q] · weight[(r · run + q) · outputs + o], for
/// columns x < `columns` (a multiple of 8) and outputs o (a multiple of 16): one image row
/// of a stride-1 correlation of padded rows. The sums start from the bias, from 0 (bias
/// nil), or from what `out` holds (`accumulate`).
@inline(__always)
func correlateChannelBlocks(_ input: UnsafePointer<Float>, rowStride: Int, pixelStride: Int, kernelRows: Int, run: Int,
                            columns: Int, weight: UnsafePointer<Float>, outputs: Int, bias: UnsafePointer<Float>?,
                            accumulate: Bool, into out: UnsafeMutablePointer<Float>) {
    let zero = SIMD16<Float>(repeating: 0)
    var j = 0
    while j + 32 <= outputs {
        for x0 in stride(from: 0, to: columns, by: 8) {
            let target = out + x0 * outputs + j
            var tile = accumulate ? SumTile8x32(loading: target, rowStride: outputs)
                : bias.map { SumTile8x32(load16($0 + j), load16($0 + j + 16)) } ?? SumTile8x32(zero, zero)
            for r in 0..<kernelRows {
                let x = input + r * rowStride + x0 * pixelStride, w = weight + r * run * outputs + j
                for q in 0..<run {
                    tile.addProducts(x + q, stride: pixelStride, load16(w + q * outputs), load16(w + q * outputs + 16))
                }
            }
            tile.store(target, rowStride: outputs)
        }
        j += 32
    }
    guard j < outputs else { return }
    for x0 in stride(from: 0, to: columns, by: 8) {
        let target = out + x0 * outputs + j
        var tile = accumulate ? SumTile8x16(loading: target, rowStride: outputs)
            : SumTile8x16(bias.map { load16($0 + j) } ?? zero)
        for r in 0..<kernelRows {
            let x = input + r * rowStride + x0 * pixelStride, w = weight + r * run * outputs + j
            for q in 0..<run { tile.addProducts(x + q, stride: pixelStride, load16(w + q * outputs)) }
        }
        tile.store(target, rowStride: outputs)
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
    /// the last row the bias. Tiles of 8 patch entries × 32 output channels (× 16 for a last
    /// block of 16) summed over the block's pixels in registers, then added into the slots.
    func channelBlockParameterGradients(_ dy: UnsafePointer<Float>, imageRows: Range<Int>,
                                        into slots: UnsafeMutablePointer<Float>, weight: Bool, bias: Bool) {
        let (outputs, run, c) = (g.outC, g.kernel * g.c, g.c)
        let zero = SIMD16<Float>(repeating: 0)
        for ky in 0..<(weight ? g.kernel : 0) {
            for q0 in stride(from: 0, to: run, by: 8) {
                let slot = slots + (ky * run + q0) * outputs
                var j = 0
                while j + 32 <= outputs {
                    var tile = SumTile8x32(zero, zero)
                    for imageRow in imageRows {
                        let x = patchRows(imageRow, ky) + q0, d = dy + imageRow * g.outW * outputs + j
                        for ox in 0..<g.outW {
                            tile.addProducts(x + ox * c, stride: 1, load16(d + ox * outputs), load16(d + ox * outputs + 16))
                        }
                    }
                    tile.store(slot + j, rowStride: outputs, adding: true)
                    j += 32
                }
                guard j < outputs else { continue }
                var tile = SumTile8x16(zero)
                for imageRow in imageRows {
                    let x = patchRows(imageRow, ky) + q0, d = dy + imageRow * g.outW * outputs + j
                    for ox in 0..<g.outW { tile.addProducts(x + ox * c, stride: 1, load16(d + ox * outputs)) }
                }
                tile.store(slot + j, rowStride: outputs, adding: true)
            }
        }
        if bias {
            let slot = slots + g.patch * outputs
            for j in stride(from: 0, to: outputs, by: 16) {
                var (s0, s1) = (zero, zero)
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
