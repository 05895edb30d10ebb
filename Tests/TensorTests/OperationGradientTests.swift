import XCTest
import RandomStreams
@testable import Tensor

/// Every differentiable operation's pullback against central finite differences.
final class OperationGradientTests: XCTestCase {
    func testLinearAndMatmul() {
        checkGradients("linear", inputs: [randomTensor([2, 3, 5], seed: 1), randomTensor([4, 5], seed: 2),
                                          randomTensor([4], seed: 3)]) {
            .linear($0[0], weight: $0[1], bias: $0[2])
        }
        checkGradients("linear, outputs 1..<3", inputs: [randomTensor([2, 3, 5], seed: 1), randomTensor([4, 5], seed: 2),
                                                         randomTensor([4], seed: 3)]) {
            .linear($0[0], weight: $0[1], bias: $0[2], outputs: 1..<3)
        }
        checkGradients("linear, inputs 1..<4 and outputs 2..<4", inputs: [randomTensor([2, 3, 3], seed: 1), randomTensor([4, 5], seed: 2),
                                                                          randomTensor([4], seed: 3)]) {
            .linear($0[0], weight: $0[1], bias: $0[2], outputs: 2..<4, inputs: 1..<4)
        }
        checkGradients("matmul shared", inputs: [randomTensor([2, 3, 4], seed: 4), randomTensor([4, 5], seed: 5)]) {
            .matmul($0[0], $0[1])
        }
        checkGradients("matmul batched", inputs: [randomTensor([2, 3, 4], seed: 6), randomTensor([2, 4, 2], seed: 7)]) {
            .matmul($0[0], $0[1])
        }
    }

    func testConvolutionsAllPaddingsAndStrides() {
        let paddings: [Padding] = [.geographic, .zero,
                                   Padding(latitude: .replicate, longitude: .periodic)]
        for padding in paddings {
            for stride in [1, 2] {
                checkGradients("conv3x3 \(padding) stride \(stride)",
                               inputs: [randomTensor([2, 4, 6, 3], seed: 8), randomTensor([3, 3, 3, 4], seed: 9),
                                        randomTensor([4], seed: 10)]) {
                    .conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding)
                }
            }
        }
        // The direct convolutions: one input channel into 16 (small patch), 16 into 3 (few
        // outputs), 32 into 32 and 16 into 16 (channel blocks, stride 1 only), every padding,
        // with and without bias.
        let direct: [(input: [Int], weight: [Int], kernel: DirectConvolution.Kernel)] = [
            ([2, 4, 8, 1], [3, 3, 1, 16], .smallPatch), ([2, 4, 8, 16], [3, 3, 16, 3], .fewOutputs),
            ([2, 4, 8, 32], [3, 3, 32, 32], .channelBlocks), ([2, 4, 8, 16], [3, 3, 16, 16], .channelBlocks),
        ]
        for (input, weight, kernel) in direct {
            for padding in paddings {
                for stride in kernel == .channelBlocks ? [1] : [1, 2] {
                    XCTAssertEqual(DirectConvolution.kernel(for: ConvolutionGeometry(input: input, weight: weight, stride: stride)), kernel)
                    checkGradients("conv3x3 \(kernel) \(padding) stride \(stride)",
                                   inputs: [randomTensor(input, seed: 14), randomTensor(weight, seed: 15),
                                            randomTensor([weight[3]], seed: 16)]) {
                        .conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding)
                    }
                }
            }
            checkGradients("conv3x3 \(kernel), no bias", inputs: [randomTensor(input, seed: 17), randomTensor(weight, seed: 18)]) {
                .conv2d($0[0], weight: $0[1], bias: nil, padding: .zero)
            }
        }
        checkGradients("conv1x1", inputs: [randomTensor([2, 3, 4, 5], seed: 11), randomTensor([1, 1, 5, 2], seed: 12),
                                           randomTensor([2], seed: 13)]) {
            .conv2d($0[0], weight: $0[1], bias: $0[2], padding: .zero)
        }
    }

    func testUpsampling() {
        checkGradients("upsample", inputs: [randomTensor([2, 3, 4, 2], seed: 14)]) { $0[0].upsampledNearest() }
    }

    func testNormalisations() {
        checkGradients("groupNorm", inputs: [randomTensor([2, 3, 4, 6], seed: 15), randomTensor([6], seed: 16),
                                             randomTensor([6], seed: 17)]) {
            .groupNorm($0[0], groups: 3, gamma: $0[1], beta: $0[2])
        }
        checkGradients("layerNorm", inputs: [randomTensor([3, 4, 8], seed: 18), randomTensor([8], seed: 19),
                                             randomTensor([8], seed: 20)]) {
            .layerNorm($0[0], gamma: $0[1], beta: $0[2])
        }
    }

    func testActivationsAndSoftmax() {
        let x = randomTensor([3, 7], seed: 21, scale: 2)
        checkGradients("silu", inputs: [x]) { $0[0].silu() }
        checkGradients("gelu", inputs: [x]) { $0[0].gelu() }
        checkGradients("exp", inputs: [x]) { $0[0].exp() }
        checkGradients("softmax", inputs: [x]) { $0[0].softmax() }
    }

    func testAttentionWithAndWithoutCausalMask() {
        for causal in [false, true] {
            checkGradients("attention causal=\(causal)",
                           inputs: [randomTensor([2, 5, 8], seed: 22), randomTensor([2, 5, 8], seed: 23),
                                    randomTensor([2, 5, 8], seed: 24)]) {
                .attention(query: $0[0], key: $0[1], value: $0[2], heads: 2, causal: causal)
            }
        }
        checkGradients("attention on fused qkv", inputs: [randomTensor([2, 5, 24], seed: 25)]) {
            .attention(fusedQKV: $0[0], heads: 2, causal: true)
        }
        checkGradients("attention, 3 queries over fused keys and values",
                       inputs: [randomTensor([2, 3, 8], seed: 22), randomTensor([2, 5, 16], seed: 26)]) {
            .attention(query: $0[0], fusedKeyValue: $0[1], heads: 2)
        }
        checkGradients("attention, 3 queries over 5 keys",
                       inputs: [randomTensor([2, 3, 8], seed: 22), randomTensor([2, 5, 8], seed: 23),
                                randomTensor([2, 5, 8], seed: 24)]) {
            .attention(query: $0[0], key: $0[1], value: $0[2], heads: 2)
        }
    }

    func testArithmeticAndBroadcasts() {
        let x = randomTensor([2, 3, 4], seed: 25)
        checkGradients("add", inputs: [x, randomTensor([2, 3, 4], seed: 26)]) { $0[0] + $0[1] }
        checkGradients("add trailing", inputs: [x, randomTensor([3, 4], seed: 27)]) { $0[0] + $0[1] }
        checkGradients("add per sample", inputs: [x, randomTensor([2, 1, 4], seed: 28)]) { $0[0] + $0[1] }
        checkGradients("mul per sample", inputs: [x, randomTensor([2, 1, 4], seed: 29)]) { $0[0] * $0[1] }
        checkGradients("mul", inputs: [x, randomTensor([2, 3, 4], seed: 30)]) { $0[0] * $0[1] }
        checkGradients("subtract and scale", inputs: [x, randomTensor([2, 3, 4], seed: 31)]) { ($0[0] - $0[1]) * 0.3 }
    }

    func testShapeOperationsAndReductions() {
        let x = randomTensor([2, 3, 4], seed: 32)
        checkGradients("concat", inputs: [x, randomTensor([2, 3, 2], seed: 33)]) { .concatenate([$0[0], $0[1]]) }
        checkGradients("split", inputs: [x]) {
            let parts = $0[0].split([1, 3])
            return .concatenate([parts[1], parts[0] * 2])
        }
        checkGradients("slice", inputs: [x]) { $0[0].slice(time: 1..<3) }
        checkGradients("reshape", inputs: [x]) { $0[0].reshaped([6, 4]).softmax() }
        checkGradients("sum", inputs: [x]) { $0[0].sum() }
        checkGradients("mean", inputs: [x]) { $0[0].mean() }
    }

    func testLosses() {
        let target = randomTensor([2, 3, 4, 2], seed: 34)
        let weights = Tensor(shape: [3, 4], values: (0..<12).map { 0.5 + Float($0 % 3) / 2 })
        checkGradients("weighted MSE", inputs: [randomTensor([2, 3, 4, 2], seed: 35)]) {
            .weightedMeanSquaredError($0[0], target, weights: weights)
        }
        checkGradients("Gaussian KL", inputs: [randomTensor([2, 5], seed: 36), randomTensor([2, 5], seed: 37, scale: 0.5)]) {
            .gaussianKL(mean: $0[0], logVariance: $0[1])
        }
    }

    /// Dropout is linear for a fixed mask: the same stream gives the same mask.
    func testDropout() {
        checkGradients("dropout", inputs: [randomTensor([4, 6], seed: 38)]) {
            var random = RandomStream(seed: 5)
            return $0[0].dropout(rate: 0.3, random: &random)
        }
    }

    /// A value used twice (skip path plus a branch) and a parameter used twice both collect
    /// the sum of their gradients.
    /// backward(seed:) reads the caller's seed without copying it and never writes to it,
    /// whether the root is an operation or a leaf.
    func testBackwardLeavesTheSeedUnchanged() {
        let seed = randomTensor([2, 3], seed: 43), original = seed.values
        let x = Variable(requiringGradient: randomTensor([2, 3], seed: 44))
        let y = x * 2 + x    // two paths into x
        y.backward(seed: seed)
        XCTAssertEqual(seed.values, original)
        XCTAssertEqual(x.gradient!.values, original.map { 3 * $0 })
        x.backward(seed: seed)    // a leaf root adds the seed to its kept gradient
        XCTAssertEqual(seed.values, original)
        XCTAssertEqual(x.gradient!.values, original.map { 4 * $0 })
    }

    func testGradientsAccumulateOverSharedPaths() {
        checkGradients("skip + shared weight", inputs: [randomTensor([3, 4], seed: 39), randomTensor([4, 4], seed: 40)]) {
            let h = Variable.linear($0[0], weight: $0[1], bias: nil).silu()
            return $0[0] + Variable.linear(h, weight: $0[1], bias: nil)
        }
        let parameter = Parameter(name: "w", value: randomTensor([2, 2], seed: 41))
        let x = Variable(randomTensor([1, 2], seed: 42))
        let y = Variable.linear(Variable.linear(x, weight: parameter.variable, bias: nil), weight: parameter.variable, bias: nil)
        y.sum().backward()
        // d/dW of 1ᵀ W (W x) checked against finite differences of the same expression.
        let analytic = parameter.gradient.values
        for i in 0..<4 {
            let plus = parameter.value.copy(), minus = parameter.value.copy()
            plus[i] += 1e-2; minus[i] -= 1e-2
            func f(_ w: Tensor) -> Float {
                Variable.linear(Variable.linear(x, weight: Variable(w), bias: nil), weight: Variable(w), bias: nil).sum().value[0]
            }
            XCTAssertEqual(analytic[i], (f(plus) - f(minus)) / 2e-2, accuracy: 2e-3)
        }
    }
}
