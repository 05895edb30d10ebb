// Convolutions computed straight from the padded input images, without a patch matrix or
// sgemm, for the three shapes where im2col + sgemm wastes most: a patch of a few values (the
// VAE's first layer, 3×3 over one channel: patch 9, SmallPatchConvolution.swift), a few
// output channels (its last layer, 3×3 over 32 channels into one: a matrix-vector product
// over a patch matrix of 288 values per pixel, FewOutputConvolution.swift), and stride 1
// with 16·m channels in and out (its full-resolution layers, whose GEMMs are 16–32 columns
// wide and copy a patch matrix twice, ChannelBlockConvolution.swift). Each
// input image is padded once; output pixel (b, oy, ox)'s patch is then k contiguous runs of
// k·c values, kernel row ky's starting at padded (b, oy·s + ky, ox·s).

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
func store16(_ value: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD16<Float>.self)
}

/// A convolution computed from its padded input: [n, h + 2p, w + 2p, c], the padding rows
/// and columns filled as `Padding` says.
struct DirectConvolution {
    enum Kernel {
        /// Patches of at most 16 values, 16 output channels per vector (`SmallPatchConvolution.swift`).
        case smallPatch
        /// At most 4 output channels, patch rows a multiple of 16 values (`FewOutputConvolution.swift`).
        case fewOutputs
        /// 3×3, stride 1, input and output channels multiples of 16 (`ChannelBlockConvolution.swift`).
        case channelBlocks
    }

    /// false: the channel-block geometries go through im2col and sgemm instead (for tests
    /// comparing the two paths on whole models).
    nonisolated(unsafe) static var channelBlocksEnabled = true

    /// The direct kernel for a geometry, or nil for im2col + sgemm. They take 4 or 8
    /// output columns at a time; pointwise convolutions need no patch matrix anyway.
    static func kernel(for g: ConvolutionGeometry) -> Kernel? {
        guard !g.isPointwise && g.outW % 4 == 0 else { return nil }
        if g.patch <= 16 && g.outC % 16 == 0 { return .smallPatch }
        if g.outC <= 4 && (g.kernel * g.c) % 16 == 0 { return .fewOutputs }
        if channelBlocksEnabled && g.kernel == 3 && g.stride == 1 && g.outW % 8 == 0 && g.c % 16 == 0 && g.outC % 16 == 0 {
            return .channelBlocks
        }
        return nil
    }

    /// Output pixels (n · outH · outW) per block of the parameter-gradient sums, about: the
    /// blocks' totals are added in a fixed order afterwards, which keeps the rounding of the
    /// long sums near that of a blocked GEMM and independent of the number of threads.
    static let blockPixels = 256

    let kernel: Kernel
    let g: ConvolutionGeometry
    let padded: Tensor
    let paddedHeight: Int, paddedWidth: Int
    /// The p padding columns on either side of a padded row and the input column each is
    /// read from (nil: zero), the same for every row.
    let edgeColumns: [(column: Int, input: Int?)]

    /// `kernel`: the one `kernel(for: g)` chose.
    init(_ g: ConvolutionGeometry, kernel: Kernel, input x: UnsafePointer<Float>, padding: Padding) {
        assert(Self.kernel(for: g) == kernel, "direct convolution: \(kernel) does not fit patch \(g.patch), \(g.outC) outputs")
        self.kernel = kernel
        self.g = g
        let (ph, pw, c, p) = (g.h + 2 * g.pad, g.w + 2 * g.pad, g.c, g.pad)
        paddedHeight = ph
        paddedWidth = pw
        let edges = (0..<(2 * p)).map { edge in edge < p ? edge : g.w + edge }
        edgeColumns = edges.map { ($0, padding.column($0 - p, size: g.w)) }
        let edgeColumns = self.edgeColumns
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
                for (column, input) in edgeColumns {
                    if let ix = input {
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
    func patchRows(_ imageRow: Int, _ ky: Int) -> UnsafePointer<Float> {
        let b = imageRow / g.outH, oy = imageRow % g.outH
        return UnsafePointer(padded.pointer + ((b * paddedHeight + oy * g.stride + ky) * paddedWidth) * g.c)
    }

    /// weight [patch, outC] transposed to [outC, rowLength], zero beyond the patch.
    func transposedWeight(_ weight: UnsafePointer<Float>, rowLength: Int) -> Tensor {
        let transposed = Tensor(shape: [g.outC, rowLength])
        for o in 0..<g.outC { for t in 0..<g.patch { transposed[o * rowLength + t] = weight[t * g.outC + o] } }
        return transposed
    }

    /// out [n, outH, outW, outC] = bias + Σ patch · weight; weight [k, k, c, outC], bias [outC] or nil.
    func forward(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
        switch kernel {
        case .smallPatch: smallPatchForward(weight: weight, bias: bias, into: out)
        case .fewOutputs: fewOutputForward(weight: weight, bias: bias, into: out)
        case .channelBlocks: channelBlockForward(weight: weight, bias: bias, into: out)
        }
    }

    /// weightGradient [patch, outC] += Σ patch ⊗ dy and biasGradient [outC] += Σ dy (either may be nil).
    func parameterGradients(_ dy: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>?,
                            biasGradient: UnsafeMutablePointer<Float>?) {
        guard weightGradient != nil || biasGradient != nil else { return }
        // Per block: `patch` rows of weight sums, one more for the bias, each outC wide.
        let width = (g.patch + 1) * g.outC, imageRows = g.n * g.outH
        let blockRows = max(1, Self.blockPixels / g.outW), blocks = (imageRows + blockRows - 1) / blockRows
        let sums = Tensor(shape: [blocks, width])
        parallelChunks(blocks, grain: 1) { range in
            for block in range {
                let rows = (block * blockRows)..<min(imageRows, (block + 1) * blockRows)
                switch kernel {
                case .smallPatch:
                    smallPatchParameterGradients(dy, imageRows: rows, into: sums.pointer + block * width,
                                                 weight: weightGradient != nil, bias: biasGradient != nil)
                case .fewOutputs:
                    fewOutputParameterGradients(dy, imageRows: rows, into: sums.pointer + block * width,
                                                weight: weightGradient != nil, bias: biasGradient != nil)
                case .channelBlocks:
                    channelBlockParameterGradients(dy, imageRows: rows, into: sums.pointer + block * width,
                                                   weight: weightGradient != nil, bias: biasGradient != nil)
                }
            }
        }
        let total = Tensor(shape: [width])
        for block in 0..<blocks { for i in 0..<width { total[i] += sums[block * width + i] } }
        if let weightGradient { for i in 0..<(g.patch * g.outC) { weightGradient[i] += total[i] } }
        if let biasGradient { for j in 0..<g.outC { biasGradient[j] += total[g.patch * g.outC + j] } }
    }

    /// dx [n, h, w, c] += the adjoint of the convolution applied to dy.
    func inputGradient(_ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                       padding: Padding) {
        switch kernel {
        case .channelBlocks:
            channelBlockInputGradient(dy, weight: weight, into: dx, padding: padding)
        case .smallPatch:
            let transposed = transposedWeight(weight, rowLength: 16)
            scatteredInputGradient(into: dx, padding: padding) { b, image in
                smallPatchInputGradient(dy, image: b, transposedWeight: transposed.pointer, into: image)
            }
        case .fewOutputs:
            let transposed = transposedWeight(weight, rowLength: g.patch)
            scatteredInputGradient(into: dx, padding: padding) { b, image in
                fewOutputInputGradient(dy, image: b, transposedWeight: transposed.pointer, into: image)
            }
        }
    }

    /// `inputGradient` by scattering: `scatter(b, image)` adds image b's patch gradients into
    /// a zeroed padded gradient image, whose padding is then folded back onto the rows and
    /// columns it was read from.
    private func scatteredInputGradient(into dx: UnsafeMutablePointer<Float>, padding: Padding,
                                        _ scatter: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let (c, p, ph, pw) = (g.c, g.pad, paddedHeight, paddedWidth)
        parallelChunks(g.n, grain: 1) { images in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: ph * pw * c) { buffer in
                let image = buffer.baseAddress!
                for b in images {
                    image.update(repeating: 0, count: ph * pw * c)
                    scatter(b, image)
                    for row in 0..<ph {
                        guard let iy = padding.row(row - p, size: g.h) else { continue }
                        let source = image + row * pw * c, target = dx + (b * g.h + iy) * g.w * c
                        for i in 0..<(g.w * c) { target[i] += source[p * c + i] }
                        for case let (column, ix?) in edgeColumns {
                            for ci in 0..<c { target[ix * c + ci] += source[column * c + ci] }
                        }
                    }
                }
            }
        }
    }
}

extension Variable {
    /// `conv2d` for geometries `DirectConvolution.kernel(for:)` accepts, with the kernel it chose.
    static func directConvolution(_ x: Variable, weight: Variable, bias: Variable?, geometry g: ConvolutionGeometry,
                                  kernel: DirectConvolution.Kernel, padding: Padding) -> Variable {
        let convolution = DirectConvolution(g, kernel: kernel, input: x.value.pointer, padding: padding)
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
