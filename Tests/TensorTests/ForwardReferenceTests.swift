import XCTest
import Foundation
@testable import Tensor

/// Forward kernels against straightforward loops written directly from the definitions.
final class ForwardReferenceTests: XCTestCase {
    /// y[b, oy, ox, o] = bias[o] + Σ w[ky, kx, i, o] · padded x[b, oy·s + ky − p, ox·s + kx − p, i].
    func naiveConvolution(_ x: Tensor, _ w: Tensor, _ bias: Tensor, stride: Int, padding: Padding) -> [Float] {
        let (n, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let k = w.shape[0], out = w.shape[3], p = k / 2
        let oh = (h + 2 * p - k) / stride + 1, ow = (wd + 2 * p - k) / stride + 1
        var y = [Float](repeating: 0, count: n * oh * ow * out)
        func source(_ b: Int, _ i: Int, _ j: Int, _ ch: Int) -> Float {
            var row = i, column = j
            if row < 0 || row >= h {
                switch padding.latitude {
                case .zero: return 0
                case .replicate: row = min(max(row, 0), h - 1)
                case .reflect: row = row < 0 ? -row : 2 * h - 2 - row
                }
            }
            if column < 0 || column >= wd {
                if padding.longitude == .zero { return 0 }
                column = (column + wd) % wd
            }
            return x[((b * h + row) * wd + column) * c + ch]
        }
        for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<out {
            var total = Double(bias[o])
            for ky in 0..<k { for kx in 0..<k { for i in 0..<c {
                total += Double(w[((ky * k + kx) * c + i) * out + o]) * Double(source(b, oy * stride + ky - p, ox * stride + kx - p, i))
            } } }
            y[((b * oh + oy) * ow + ox) * out + o] = Float(total)
        } } } }
        return y
    }

    /// The tolerance for sums of `terms` products of magnitude ~1 in Float: a running sum
    /// rounds at about u·terms/√2 RMS (u = 2⁻²⁴, partial sums growing like √k); four times
    /// that covers the worst of thousands of outputs. At least 1e-5.
    func sumTolerance(terms: Int) -> Float { max(1e-5, 4 * 0x1p-24 * Float(terms) / Float(2).squareRoot()) }

    func assertClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5, _ message: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThan(worst, tolerance, "\(message): worst relative difference \(worst)", file: file, line: line)
    }

    func testConvolutionMatchesNaiveLoops() {
        // 3 channels: patch rows of 9 floats (one vector and a scalar tail in im2col's copies);
        // 16 channels: of 48 (vectors only), as in the VAE's full-resolution layers;
        // 1 channel into 16, 16 into 2 and 32 into 48: the direct convolutions (as the VAE's
        // first, last and full-resolution layers; the last only at stride 1).
        for (channels, outputs) in [(3, 5), (16, 5), (1, 16), (16, 2), (32, 48)] {
            let x = randomTensor([2, 6, 8, channels], seed: 1)
            for padding in [Padding.geographic, .zero, Padding(latitude: .replicate, longitude: .periodic)] {
                for (k, stride) in [(3, 1), (3, 2), (1, 1)] {
                    let w = randomTensor([k, k, channels, outputs], seed: 2), bias = randomTensor([outputs], seed: 3)
                    let geometry = ConvolutionGeometry(input: x.shape, weight: w.shape, stride: stride)
                    let direct: DirectConvolution.Kernel? = geometry.isPointwise ? nil
                        : channels == 1 ? .smallPatch : outputs == 2 ? .fewOutputs
                        : channels == 32 && stride == 1 ? .channelBlocks : nil
                    XCTAssertEqual(DirectConvolution.kernel(for: geometry), direct)
                    let y = Variable.conv2d(Variable(x), weight: Variable(w), bias: Variable(bias), stride: stride,
                                            padding: padding)
                    XCTAssertEqual(y.shape, [2, 6 / stride, 8 / stride, outputs])
                    assertClose(y.value.values, naiveConvolution(x, w, bias, stride: stride, padding: padding),
                                tolerance: sumTolerance(terms: k * k * channels), "conv \(channels) channels k=\(k) stride \(stride) \(padding)")
                }
            }
        }
    }

    /// The direct convolutions (no patch matrix) against sums in Double: the forward, the
    /// weight and bias gradients over more than one summation block, and the input gradient
    /// against the adjoint of the padded convolution, for every padding and stride 1 and 2
    /// and every kernel (the channel blocks at stride 1 only, with more input than output
    /// channels and the other way round, so that the forward and the input gradient each
    /// span two blocks of 32 channels, or one of 32 and one of 16, or one of 16 only);
    /// gradients accumulate onto what is there, and each one can be asked for alone.
    func testDirectConvolutionsMatchNaiveSums() {
        let (h, w) = (12, 32)
        for (n, channels, outputs, kernel) in [(6, 1, 32, DirectConvolution.Kernel.smallPatch), (3, 16, 3, .fewOutputs),
                                               (2, 32, 64, .channelBlocks), (1, 64, 32, .channelBlocks),
                                               (2, 16, 48, .channelBlocks), (1, 48, 16, .channelBlocks)] {
            let x = randomTensor([n, h, w, channels], seed: 21), weight = randomTensor([3, 3, channels, outputs], seed: 22)
            let bias = randomTensor([outputs], seed: 23), patch = 9 * channels
            for padding in [Padding.geographic, .zero, Padding(latitude: .replicate, longitude: .periodic)] {
                for stride in kernel == .channelBlocks ? [1] : [1, 2] {
                    let g = ConvolutionGeometry(input: x.shape, weight: weight.shape, stride: stride)
                    XCTAssertEqual(DirectConvolution.kernel(for: g), kernel)
                    XCTAssertGreaterThan(g.rows, DirectConvolution.blockPixels, "the gradient sums span more than one block")
                    let dy = randomTensor([n, g.outH, g.outW, outputs], seed: UInt64(24 + stride))
                    // Source value of each output pixel's patch entry t (nil: a zero of the padding).
                    func source(_ r: Int, _ t: Int) -> Int? {
                        let b = r / (g.outH * g.outW), oy = r / g.outW % g.outH, ox = r % g.outW
                        let tap = t / channels
                        var row = oy * stride + tap / 3 - 1, column = ox * stride + tap % 3 - 1
                        if row < 0 || row >= h {
                            switch padding.latitude {
                            case .zero: return nil
                            case .replicate: row = min(max(row, 0), h - 1)
                            case .reflect: row = row < 0 ? -row : 2 * h - 2 - row
                            }
                        }
                        if column < 0 || column >= w {
                            if padding.longitude == .zero { return nil }
                            column = (column + w) % w
                        }
                        return ((b * h + row) * w + column) * channels + t % channels
                    }
                    var forward = [Double](repeating: 0, count: g.rows * outputs), dW = [Double](repeating: 0, count: patch * outputs)
                    var dB = [Double](repeating: 0, count: outputs), dX = [Double](repeating: 0, count: x.count)
                    for r in 0..<g.rows {
                        let sources = (0..<patch).map { source(r, $0) }
                        for o in 0..<outputs {
                            let gradient = Double(dy[r * outputs + o])
                            forward[r * outputs + o] = Double(bias[o])
                            dB[o] += gradient
                            for (t, i) in sources.enumerated() {
                                guard let i else { continue }
                                forward[r * outputs + o] += Double(x[i]) * Double(weight[t * outputs + o])
                                dW[t * outputs + o] += Double(x[i]) * gradient
                                dX[i] += Double(weight[t * outputs + o]) * gradient
                            }
                        }
                    }
                    let name = "\(kernel) \(padding) stride \(stride)"
                    for wanted in [[true, true, true], [true, false, false], [false, true, false], [false, false, true]] {
                        // Gradients accumulate: each starts from ones.
                        let variables = zip([x, weight, bias], wanted).map { value, wanted in
                            wanted ? Variable(value, gradient: Tensor(shape: value.shape, repeating: 1)) : Variable(value)
                        }
                        let y = Variable.conv2d(variables[0], weight: variables[1], bias: variables[2], stride: stride, padding: padding)
                        assertClose(y.value.values, forward.map(Float.init), tolerance: sumTolerance(terms: patch), "forward \(name)")
                        y.backward(seed: dy)
                        // Sums of up to 2304 products of magnitude ~1 round at ~1e-6 relative;
                        // 1e-4 leaves room without hiding a wrong or missing term.
                        for (index, expected) in [dX, dW, dB].enumerated() where wanted[index] {
                            assertClose(variables[index].gradient!.values, expected.map { Float($0 + 1) }, tolerance: 1e-4,
                                        "gradient \(index) of \(name), wanted \(wanted)")
                        }
                    }
                }
            }
        }
    }

    /// Periodic padding: a field shifted by one grid column gives the convolution shifted by one column.
    func testPeriodicPaddingCommutesWithLongitudeShift() {
        let x = randomTensor([1, 4, 8, 2], seed: 4), w = randomTensor([3, 3, 2, 3], seed: 5), b = randomTensor([3], seed: 6)
        let shifted = Tensor(uninitializedShape: x.shape)
        for i in 0..<4 { for j in 0..<8 { for c in 0..<2 { shifted[(i * 8 + (j + 1) % 8) * 2 + c] = x[(i * 8 + j) * 2 + c] } } }
        let y = Variable.conv2d(Variable(x), weight: Variable(w), bias: Variable(b), padding: .geographic).value
        let ys = Variable.conv2d(Variable(shifted), weight: Variable(w), bias: Variable(b), padding: .geographic).value
        for i in 0..<4 { for j in 0..<8 { for c in 0..<3 {
            XCTAssertEqual(ys[(i * 8 + (j + 1) % 8) * 3 + c], y[(i * 8 + j) * 3 + c], accuracy: 1e-5)
        } } }
    }

    func testAttentionMatchesNaiveLoops() {
        let (b, t, d, heads) = (2, 5, 8, 2)
        let q = randomTensor([b, t, d], seed: 7), k = randomTensor([b, t, d], seed: 8), v = randomTensor([b, t, d], seed: 9)
        for causal in [false, true] {
            let y = Variable.attention(query: Variable(q), key: Variable(k), value: Variable(v), heads: heads, causal: causal).value
            assertClose(y.values, naiveAttention(q, k, v, heads: heads, causal: causal), "attention causal=\(causal)")
        }
        // Fewer queries than keys (the last transformer block of the window generator).
        let q3 = randomTensor([b, 3, d], seed: 10)
        let y = Variable.attention(query: Variable(q3), key: Variable(k), value: Variable(v), heads: heads).value
        assertClose(y.values, naiveAttention(q3, k, v, heads: heads, causal: false), "attention, 3 queries")
        // Operands read in place from a fused projection output give the same values.
        let fused = Variable.concatenate([Variable(q), Variable(k), Variable(v)])
        let yFused = Variable.attention(fusedQKV: fused, heads: heads, causal: true).value
        assertClose(yFused.values, naiveAttention(q, k, v, heads: heads, causal: true), "attention, fused qkv")
        let keyValue = Variable.concatenate([Variable(k), Variable(v)])
        let yKeyValue = Variable.attention(query: Variable(q3), fusedKeyValue: keyValue, heads: heads).value
        assertClose(yKeyValue.values, naiveAttention(q3, k, v, heads: heads, causal: false), "attention, fused kv")
    }

    /// softmax(q·kᵀ/√d)·v per sequence and head in Double, for q [b, tq, f] and k, v [b, tk, f].
    private func naiveAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, causal: Bool) -> [Float] {
        let (b, tq, tk, d) = (q.shape[0], q.shape[1], k.shape[1], q.shape[2])
        var expected = [Float](repeating: 0, count: b * tq * d)
        let dh = d / heads
        for bi in 0..<b { for h in 0..<heads { for i in 0..<tq {
            var scores = [Double](repeating: -.infinity, count: tk)
            for j in 0..<tk where !causal || j <= i {
                var s = 0.0
                for e in 0..<dh { s += Double(q[(bi * tq + i) * d + h * dh + e]) * Double(k[(bi * tk + j) * d + h * dh + e]) }
                scores[j] = s / Double(dh).squareRoot()
            }
            let peak = scores.max()!
            let weights = scores.map { Foundation.exp($0 - peak) }
            let total = weights.reduce(0, +)
            for e in 0..<dh {
                var o = 0.0
                for j in 0..<tk { o += weights[j] / total * Double(v[(bi * tk + j) * d + h * dh + e]) }
                expected[(bi * tq + i) * d + h * dh + e] = Float(o)
            }
        } } }
        return expected
    }

    func testGroupNormMatchesDefinition() {
        let (n, positions, c, groups) = (2, 12, 6, 3)
        let x = randomTensor([n, 3, 4, c], seed: 10, scale: 3)
        let gamma = randomTensor([c], seed: 11), beta = randomTensor([c], seed: 12)
        let y = Variable.groupNorm(Variable(x), groups: groups, gamma: Variable(gamma), beta: Variable(beta)).value
        var expected = [Float](repeating: 0, count: x.count)
        let width = c / groups
        for b in 0..<n { for g in 0..<groups {
            var values: [Double] = []
            for p in 0..<positions { for ch in g * width..<(g + 1) * width { values.append(Double(x[(b * positions + p) * c + ch])) } }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            for p in 0..<positions { for ch in g * width..<(g + 1) * width {
                let i = (b * positions + p) * c + ch
                expected[i] = Float((Double(x[i]) - mean) / (variance + 1e-5).squareRoot() * Double(gamma[ch]) + Double(beta[ch]))
            } }
        } }
        assertClose(y.values, expected, tolerance: 1e-4, "groupNorm")
    }

    func testLayerNormMatchesDefinition() {
        let x = randomTensor([4, 10], seed: 13, scale: 2), gamma = randomTensor([10], seed: 14), beta = randomTensor([10], seed: 15)
        let y = Variable.layerNorm(Variable(x), gamma: Variable(gamma), beta: Variable(beta)).value
        for r in 0..<4 {
            let row = (0..<10).map { Double(x[r * 10 + $0]) }
            let mean = row.reduce(0, +) / 10
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 10
            for j in 0..<10 {
                let expected = (row[j] - mean) / (variance + 1e-5).squareRoot() * Double(gamma[j]) + Double(beta[j])
                XCTAssertEqual(Double(y[r * 10 + j]), expected, accuracy: 1e-4)
            }
        }
    }

    func testUpsampleRepeatsEachCell() {
        let x = randomTensor([1, 2, 3, 2], seed: 16)
        let y = x.upsampledNearestForTest()
        for i in 0..<4 { for j in 0..<6 { for c in 0..<2 {
            XCTAssertEqual(y[(i * 6 + j) * 2 + c], x[((i / 2) * 3 + j / 2) * 2 + c])
        } } }
    }

    func testFastMathAgainstFoundation() {
        var worstExp: Float = 0, worstErf: Float = 0
        for i in -4000...4000 {
            let x = Float(i) / 100
            worstExp = max(worstExp, abs(FastMath.exp(x) - Foundation.exp(x)) / Foundation.exp(x))
            worstErf = max(worstErf, abs(FastMath.erf(x) - Foundation.erf(x)))
        }
        XCTAssertLessThan(worstExp, 3e-7, "exp relative error (2 ulp)")
        XCTAssertLessThan(worstErf, 3e-7, "erf absolute error")
    }

    func testTimestepEmbedding() {
        let e = timestepEmbedding([0, 10], dimension: 4)
        XCTAssertEqual(e.values, [0, 0, 1, 1, Float(sin(10.0)), Float(sin(0.1)), Float(cos(10.0)), Float(cos(0.1))])
    }

    /// The SIMD row reductions against Double sums, at lengths around the 8-wide chunks;
    /// tolerance: float rounding of n terms, 1e-6 · Σ|term| · √n.
    func testRowReductionsAgainstDouble() {
        for n in [0, 1, 3, 7, 8, 9, 15, 16, 63, 64, 65, 257] {
            let x = randomTensor([max(n, 1)], seed: UInt64(100 + n), scale: 3)
            let y = randomTensor([max(n, 1)], seed: UInt64(200 + n))
            let xs = (0..<n).map { Double(x[$0]) }, ys = (0..<n).map { Double(y[$0]) }
            let tolerance = { (terms: [Double]) in 1e-6 * terms.map(abs).reduce(0, +) * Double(max(n, 1)).squareRoot() + 1e-12 }
            XCTAssertEqual(Double(rowSum(x.pointer, count: n)), xs.reduce(0, +), accuracy: tolerance(xs), "sum, n = \(n)")
            let products = zip(xs, ys).map { $0 * $1 }
            XCTAssertEqual(Double(rowDot(x.pointer, y.pointer, count: n)), products.reduce(0, +),
                           accuracy: tolerance(products), "dot, n = \(n)")
            let mean: Float = 0.25
            let squares = xs.map { ($0 - Double(mean)) * ($0 - Double(mean)) }
            XCTAssertEqual(Double(rowSquaredDeviations(x.pointer, mean: mean, count: n)), squares.reduce(0, +),
                           accuracy: tolerance(squares), "squared deviations, n = \(n)")
            XCTAssertEqual(rowMaximum(x.pointer, count: n), n == 0 ? -.infinity : Float(xs.max()!), "maximum, n = \(n)")
        }
    }

    /// Softmax rows against exp/sum in Double, out of place and in place (as attention calls it).
    func testSoftmaxAgainstDoubleReference() {
        for width in [5, 8, 13, 64] {
            let x = randomTensor([3, width], seed: UInt64(300 + width), scale: 4)
            let separate = Tensor(uninitializedShape: x.shape), inPlace = x.copy()
            softmaxRows(x.pointer, separate.pointer, rows: 3, width: width)
            softmaxRows(inPlace.pointer, inPlace.pointer, rows: 3, width: width)
            for r in 0..<3 {
                let row = (0..<width).map { Double(x[r * width + $0]) }, peak = row.max()!
                let total = row.map { Foundation.exp($0 - peak) }.reduce(0, +)
                for j in 0..<width {
                    let expected = Foundation.exp(row[j] - peak) / total
                    XCTAssertEqual(Double(separate[r * width + j]), expected, accuracy: 1e-6 * max(expected, 1e-3))
                    XCTAssertEqual(inPlace[r * width + j], separate[r * width + j])
                }
            }
        }
    }

    func testSoftmaxRowsSumToOne() {
        let y = Variable(randomTensor([3, 9], seed: 17, scale: 5)).softmax().value
        for r in 0..<3 { XCTAssertEqual((0..<9).map { y[r * 9 + $0] }.reduce(0, +), 1, accuracy: 1e-6) }
    }
}

extension Tensor {
    func upsampledNearestForTest() -> Tensor { Variable(self).upsampledNearest().value }
}
