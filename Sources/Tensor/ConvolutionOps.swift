// 2-D convolution on channels-last images ([batch, lat, lon, channels]) as im2col + one
// sgemm (a patch of a few values, or a few output channels: direct SIMD loops on the padded
// images, DirectConvolution.swift), with the geographic padding of global grids, and
// nearest-neighbour upsampling.

import Foundation

/// How a convolution sees beyond the image edges.
public struct Padding: Equatable, Sendable {
    public enum Latitude: Equatable, Sendable {
        /// Zeros outside.
        case zero
        /// Mirror without repeating the edge row (row −1 reads row 1): across the pole.
        case reflect
        /// Repeat the edge row.
        case replicate
    }

    public enum Longitude: Equatable, Sendable {
        case zero
        /// Column −1 is column W−1: the globe wraps in longitude.
        case periodic
    }

    public var latitude: Latitude
    public var longitude: Longitude

    public init(latitude: Latitude, longitude: Longitude) {
        self.latitude = latitude
        self.longitude = longitude
    }

    /// Zero padding on both axes (generic images).
    public static let zero = Padding(latitude: .zero, longitude: .zero)
    /// Reflect across the poles, wrap in longitude: the padding for global lat-lon grids.
    public static let geographic = Padding(latitude: .reflect, longitude: .periodic)

    /// The source row for padded row `i` of an image with `size` rows, or nil for a zero.
    @inline(__always)
    func row(_ i: Int, size: Int) -> Int? {
        if i >= 0 && i < size { return i }
        switch latitude {
        case .zero: return nil
        case .replicate: return i < 0 ? 0 : size - 1
        case .reflect: return size == 1 ? 0 : (i < 0 ? -i : 2 * (size - 1) - i)
        }
    }

    /// The source column for padded column `j` of an image with `size` columns, or nil.
    @inline(__always)
    func column(_ j: Int, size: Int) -> Int? {
        if j >= 0 && j < size { return j }
        switch longitude {
        case .zero: return nil
        case .periodic: return ((j % size) + size) % size
        }
    }
}

/// Geometry of one convolution: input [n, h, w, c] → output [n, outH, outW, outC].
struct ConvolutionGeometry {
    let n, h, w, c, kernel, stride, pad, outH, outW, outC: Int
    var rows: Int { n * outH * outW }
    var patch: Int { kernel * kernel * c }
    var isPointwise: Bool { kernel == 1 && stride == 1 }

    init(input: [Int], weight: [Int], stride: Int) {
        precondition(input.count == 4, "conv2d: input must be [batch, lat, lon, channels], got \(input)")
        precondition(weight.count == 4 && weight[0] == weight[1] && weight[0] % 2 == 1,
                     "conv2d: weight must be [k, k, in, out] with odd k, got \(weight)")
        precondition(weight[2] == input[3], "conv2d: weight \(weight) for input channels \(input[3])")
        n = input[0]; h = input[1]; w = input[2]; c = input[3]
        kernel = weight[0]; self.stride = stride; pad = kernel / 2; outC = weight[3]
        outH = (h + 2 * pad - kernel) / stride + 1
        outW = (w + 2 * pad - kernel) / stride + 1
    }

    /// The input column of output column `ox`'s first kernel tap, and whether all k taps
    /// fall inside the image in longitude (then a patch row is one contiguous run).
    @inline(__always)
    func patchColumns(_ ox: Int) -> (first: Int, inside: Bool) {
        let first = ox * stride - pad
        return (first, first >= 0 && first + kernel <= w)
    }

    /// Patches: col[(b, oy, ox), (ky, kx, ci)] = padded x[b, oy·s + ky − p, ox·s + kx − p, ci].
    /// Where a patch row lies inside the image in longitude, its k·c values are contiguous in
    /// both x and col and go over in one copy.
    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, padding: Padding) {
        let patch = self.patch, run = kernel * c
        parallelChunks(n * outH, grain: 4) { range in
            for imageRow in range {
                let b = imageRow / outH, oy = imageRow % outH
                for ox in 0..<outW {
                    let destination = col + (imageRow * outW + ox) * patch
                    let (firstColumn, inside) = patchColumns(ox)
                    for ky in 0..<kernel {
                        let rowStart = destination + ky * run
                        guard let iy = padding.row(oy * stride + ky - pad, size: h) else {
                            rowStart.update(repeating: 0, count: run)
                            continue
                        }
                        let sourceRow = x + (b * h + iy) * w * c
                        if inside {
                            copyFloats(rowStart, from: sourceRow + firstColumn * c, count: run)
                            continue
                        }
                        for kx in 0..<kernel {
                            let slot = rowStart + kx * c
                            if let ix = padding.column(firstColumn + kx, size: w) {
                                copyFloats(slot, from: sourceRow + ix * c, count: c)
                            } else {
                                slot.update(repeating: 0, count: c)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: dx[...] += every patch entry that was read from it (a patch
    /// row inside the image in longitude in one contiguous run, as in `im2col`).
    func col2im(_ dcol: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, padding: Padding) {
        let patch = self.patch, run = kernel * c
        parallelChunks(n, grain: 1) { images in
            for b in images {
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        let source = dcol + ((b * outH + oy) * outW + ox) * patch
                        let (firstColumn, inside) = patchColumns(ox)
                        for ky in 0..<kernel {
                            guard let iy = padding.row(oy * stride + ky - pad, size: h) else { continue }
                            let targetRow = dx + (b * h + iy) * w * c, rowStart = source + ky * run
                            if inside {
                                let target = targetRow + firstColumn * c
                                for j in 0..<run { target[j] += rowStart[j] }
                                continue
                            }
                            for kx in 0..<kernel {
                                guard let ix = padding.column(firstColumn + kx, size: w) else { continue }
                                let target = targetRow + ix * c, slot = rowStart + kx * c
                                for ci in 0..<c { target[ci] += slot[ci] }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Variable {
    /// 2-D convolution of x [batch, lat, lon, in] with weight [k, k, in, out] (k odd,
    /// "same" padding k/2) and bias [out], stride 1 or 2 → [batch, lat/stride, lon/stride, out].
    public static func conv2d(_ x: Variable, weight: Variable, bias: Variable?, stride: Int = 1,
                              padding: Padding) -> Variable {
        let g = ConvolutionGeometry(input: x.shape, weight: weight.shape, stride: stride)
        if let kernel = DirectConvolution.kernel(for: g) {
            return directConvolution(x, weight: weight, bias: bias, geometry: g, kernel: kernel, padding: padding)
        }
        let col: Tensor
        if g.isPointwise {
            col = x.value
        } else {
            col = Tensor(uninitializedShape: [g.rows, g.patch])
            g.im2col(x.value.pointer, col.pointer, padding: padding)
        }
        let result = Tensor(uninitializedShape: [g.n, g.outH, g.outW, g.outC])
        if let bias {
            broadcastRows(bias.value.pointer, into: result.pointer, rows: g.rows, columns: g.outC)
        }
        gemm(m: g.rows, n: g.outC, k: g.patch, col.pointer, lda: g.patch, weight.value.pointer, ldb: g.outC,
             beta: bias == nil ? 0 : 1, result.pointer, ldc: g.outC)
        let operands = bias.map { [x, weight, $0] } ?? [x, weight]
        return Variable(result, inputs: operands) { gradient in
            let dy = gradient.pointer
            if weight.requiresGradient {
                gemm(transposeA: true, m: g.patch, n: g.outC, k: g.rows, col.pointer, lda: g.patch, dy,
                     ldb: g.outC, beta: 1, weight.gradientBuffer().pointer, ldc: g.outC)
            }
            if let bias, bias.requiresGradient {
                addColumnSums(dy, rows: g.rows, columns: g.outC, into: bias.gradientBuffer().pointer)
            }
            guard x.requiresGradient else { return }
            if g.isPointwise {
                gemm(transposeB: true, m: g.rows, n: g.patch, k: g.outC, dy, lda: g.outC, weight.value.pointer,
                     ldb: g.outC, beta: 1, x.gradientBuffer().pointer, ldc: g.patch)
            } else {
                let dcol = Tensor(uninitializedShape: [g.rows, g.patch])
                gemm(transposeB: true, m: g.rows, n: g.patch, k: g.outC, dy, lda: g.outC, weight.value.pointer,
                     ldb: g.outC, beta: 0, dcol.pointer, ldc: g.patch)
                g.col2im(dcol.pointer, x.gradientBuffer().pointer, padding: padding)
            }
        }
    }

    /// Nearest-neighbour upsampling ×2 of x [batch, lat, lon, channels].
    public func upsampledNearest() -> Variable {
        precondition(value.rank == 4, "upsample: expected [batch, lat, lon, channels], got \(shape)")
        let n = shape[0], h = shape[1], w = shape[2], c = shape[3]
        let result = Tensor(uninitializedShape: [n, 2 * h, 2 * w, c])
        let x = value.pointer, y = result.pointer
        parallelChunks(n * h, grain: 8) { range in
            for row in range {
                for dy in 0..<2 {
                    let out = y + (2 * row + dy) * 2 * w * c
                    for j in 0..<w {
                        let source = x + (row * w + j) * c
                        copyFloats(out + 2 * j * c, from: source, count: c)
                        copyFloats(out + (2 * j + 1) * c, from: source, count: c)
                    }
                }
            }
        }
        return Variable(result, inputs: [self]) { gradient in
            let g = gradient.pointer, dx = self.gradientBuffer().pointer
            parallelChunks(n * h, grain: 8) { range in
                for row in range {
                    for j in 0..<w {
                        let target = dx + (row * w + j) * c
                        for dy in 0..<2 {
                            let source = g + ((2 * row + dy) * 2 * w + 2 * j) * c
                            for ci in 0..<c { target[ci] += source[ci] + source[c + ci] }
                        }
                    }
                }
            }
        }
    }
}
