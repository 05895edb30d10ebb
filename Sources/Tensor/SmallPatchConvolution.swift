// Convolutions whose patch is only a few values long (the VAE's first layer: 3×3 over one
// channel, patch 9), without a patch matrix or sgemm. With k = 9, sgemm spends as long
// packing and scaling its operands as multiplying, and im2col as long writing the patch
// matrix as the product takes to read it. Here each input image is padded once, and the
// forward, the weight and bias gradients and the input gradient are direct SIMD loops that
// read their patches from the padded images (16 output channels per vector).

/// Patches at most this long take the direct loops.
let smallPatchLimit = 16

/// Whether `conv2d` computes this geometry with `SmallPatchConvolution`: the loops take 16
/// output channels (one AVX-512 vector) and 4 output columns at a time.
@inline(__always)
func usesSmallPatchConvolution(_ g: ConvolutionGeometry) -> Bool {
    !g.isPointwise && g.patch <= smallPatchLimit && g.outC % 16 == 0 && g.outW % 4 == 0
}

@inline(__always)
private func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
private func store16(_ value: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD16<Float>.self)
}

/// Output rows (n · outH · outW) per block of the weight-gradient sums, about: the blocks'
/// totals are added in a fixed order afterwards, which keeps the rounding of the long sums
/// near that of a blocked GEMM and independent of the number of threads.
let smallPatchBlockRows = 256

/// One small-patch convolution's input, padded: [n, h + 2p, w + 2p, c] with the padding
/// rows and columns filled as `Padding` says. Output pixel (b, oy, ox)'s patch row ky is
/// then the k·c contiguous values from padded (b, oy·s + ky, ox·s).
struct SmallPatchConvolution {
    let g: ConvolutionGeometry
    let padded: Tensor
    let paddedHeight: Int, paddedWidth: Int

    init(_ g: ConvolutionGeometry, input x: UnsafePointer<Float>, padding: Padding) {
        precondition(usesSmallPatchConvolution(g), "small-patch convolution: patch \(g.patch), \(g.outC) outputs")
        self.g = g
        let (ph, pw, c, p) = (g.h + 2 * g.pad, g.w + 2 * g.pad, g.c, g.pad)
        paddedHeight = ph
        paddedWidth = pw
        padded = Tensor(uninitializedShape: [g.n, ph, pw, c])
        let target = padded.pointer
        parallelChunks(g.n * ph, grain: 64) { rows in
            for index in rows {
                let row = target + index * pw * c
                guard let iy = padding.row(index % ph - p, size: g.h) else {
                    row.update(repeating: 0, count: pw * c)
                    continue
                }
                let source = x + (index / ph * g.h + iy) * g.w * c
                copyFloats(row + p * c, from: source, count: g.w * c)
                for column in Array(0..<p) + Array((p + g.w)..<pw) {
                    if let ix = padding.column(column - p, size: g.w) {
                        (row + column * c).update(from: source + ix * c, count: c)
                    } else {
                        (row + column * c).update(repeating: 0, count: c)
                    }
                }
            }
        }
    }

    /// Padded input at output row `imageRow` (= b · outH + oy), kernel row ky, output column 0.
    @inline(__always)
    private func patchRows(_ imageRow: Int, _ ky: Int) -> UnsafePointer<Float> {
        let b = imageRow / g.outH, oy = imageRow % g.outH
        return UnsafePointer(padded.pointer + ((b * paddedHeight + oy * g.stride + ky) * paddedWidth) * g.c)
    }

    /// out [n, outH, outW, outC] = bias + Σ patch · weight; weight [k, k, c, outC] (row t of
    /// the patch), bias [outC] or nil. Four output columns at a time: four independent sums
    /// share each weight vector.
    func forward(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
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

    /// weightGradient [patch, outC] += Σ patch ⊗ dy and biasGradient [outC] += Σ dy (either
    /// may be nil). Each patch value's sum over an image row runs in four interleaved partial
    /// sums; image rows are summed in blocks whose totals are added in a fixed order.
    func parameterGradients(_ dy: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>?,
                            biasGradient: UnsafeMutablePointer<Float>?) {
        guard weightGradient != nil || biasGradient != nil else { return }
        let (outputs, patch, run, step) = (g.outC, g.patch, g.kernel * g.c, g.stride * g.c)
        // Per block of image rows: `patch` rows of weight sums, one more for the bias.
        let width = (patch + 1) * outputs, imageRows = g.n * g.outH
        let blockRows = max(1, smallPatchBlockRows / g.outW), blocks = (imageRows + blockRows - 1) / blockRows
        let sums = Tensor(shape: [blocks, width])
        parallelChunks(blocks, grain: 1) { range in
            for block in range {
                let slots = sums.pointer + block * width
                for imageRow in (block * blockRows)..<min(imageRows, (block + 1) * blockRows) {
                    let rows = (0..<g.kernel).map { patchRows(imageRow, $0) }
                    let gradient = dy + imageRow * g.outW * outputs
                    var j = 0
                    while j < outputs {
                        // Row `patch` of the slots: the bias, a patch value of 1.
                        for t in (weightGradient == nil ? patch : 0)...(biasGradient == nil ? patch - 1 : patch) {
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
        }
        let total = Tensor(shape: [width])
        for block in 0..<blocks { for i in 0..<width { total[i] += sums[block * width + i] } }
        if let weightGradient { for i in 0..<(patch * outputs) { weightGradient[i] += total[i] } }
        if let biasGradient { for j in 0..<outputs { biasGradient[j] += total[patch * outputs + j] } }
    }

    /// dx [n, h, w, c] += the adjoint of the convolution applied to dy: each pixel's patch
    /// gradient dy · weightᵀ (up to 16 values in one SIMD16, four pixels at a time) is added
    /// into a padded image, whose padding is then folded back onto the rows and columns it
    /// was read from.
    func inputGradient(_ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                       padding: Padding) {
        let (outputs, patch, run, step, c, p) = (g.outC, g.patch, g.kernel * g.c, g.stride * g.c, g.c, g.pad)
        let (ph, pw) = (paddedHeight, paddedWidth)
        // weightᵀ [outC, 16], zero beyond the patch.
        var transposed = [SIMD16<Float>](repeating: SIMD16<Float>(repeating: 0), count: outputs)
        for o in 0..<outputs { for t in 0..<patch { transposed[o][t] = weight[t * outputs + o] } }
        parallelChunks(g.n, grain: 1) { images in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: ph * pw * c) { buffer in
                let image = buffer.baseAddress!
                for b in images {
                    image.update(repeating: 0, count: ph * pw * c)
                    for oy in 0..<g.outH {
                        for ox in stride(from: 0, to: g.outW, by: 4) {
                            let gradient = dy + ((b * g.outH + oy) * g.outW + ox) * outputs
                            var (d0, d1, d2, d3) = (SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0),
                                                    SIMD16<Float>(repeating: 0), SIMD16<Float>(repeating: 0))
                            for o in 0..<outputs {
                                let w = transposed[o]
                                d0.addProduct(SIMD16<Float>(repeating: gradient[o]), w)
                                d1.addProduct(SIMD16<Float>(repeating: gradient[outputs + o]), w)
                                d2.addProduct(SIMD16<Float>(repeating: gradient[2 * outputs + o]), w)
                                d3.addProduct(SIMD16<Float>(repeating: gradient[3 * outputs + o]), w)
                            }
                            for (pixel, d) in [(0, d0), (1, d1), (2, d2), (3, d3)] {
                                for ky in 0..<g.kernel {
                                    let target = image + (oy * g.stride + ky) * pw * c + (ox + pixel) * step
                                    for q in 0..<run { target[q] += d[ky * run + q] }
                                }
                            }
                        }
                    }
                    for row in 0..<ph {
                        guard let iy = padding.row(row - p, size: g.h) else { continue }
                        let source = image + row * pw * c, target = dx + (b * g.h + iy) * g.w * c
                        for i in 0..<(g.w * c) { target[i] += source[p * c + i] }
                        for column in Array(0..<p) + Array((p + g.w)..<pw) {
                            guard let ix = padding.column(column - p, size: g.w) else { continue }
                            for ci in 0..<c { target[ix * c + ci] += source[column * c + ci] }
                        }
                    }
                }
            }
        }
    }
}

extension Variable {
    /// `conv2d` for geometries `usesSmallPatchConvolution` accepts.
    static func smallPatchConvolution(_ x: Variable, weight: Variable, bias: Variable?, geometry g: ConvolutionGeometry,
                                      padding: Padding) -> Variable {
        let convolution = SmallPatchConvolution(g, input: x.value.pointer, padding: padding)
        let result = Tensor(uninitializedShape: [g.n, g.outH, g.outW, g.outC])
        convolution.forward(weight: weight.value.pointer, bias: bias?.value.pointer, into: result.pointer)
        let operands = bias.map { [x, weight, $0] } ?? [x, weight]
        return Variable(result, inputs: operands) { gradient in
            convolution.parameterGradients(gradient.pointer,
                                           weightGradient: weight.requiresGradient ? weight.gradientBuffer().pointer : nil,
                                           biasGradient: bias.flatMap { $0.requiresGradient ? $0.gradientBuffer().pointer : nil })
            if x.requiresGradient {
                convolution.inputGradient(gradient.pointer, weight: weight.value.pointer, into: x.gradientBuffer().pointer,
                                          padding: padding)
            }
        }
    }
}
