import XCTest
import RandomStreams
@testable import Tensor

/// Layers and optimisers together: small networks must overfit one batch, and the
/// optimiser pieces must follow their formulas.
final class TrainingTests: XCTestCase {
    func testTinyMLPOverfitsABatch() {
        var random = RandomStream(seed: 1)
        let first = Linear("l1", inputs: 4, outputs: 32, random: &random)
        let second = Linear("l2", inputs: 32, outputs: 2, random: &random)
        let x = randomTensor([16, 4], seed: 2), y = randomTensor([16, 2], seed: 3)
        let weights = Tensor(shape: [2], repeating: 1)
        let parameters = first.parameters + second.parameters
        let optimizer = AdamW(parameters: parameters, learningRate: 1e-2, weightDecay: 0)
        func loss() -> Variable { .weightedMeanSquaredError(second(first(Variable(x)).gelu()), y, weights: weights) }
        let initial = loss().value[0]
        for _ in 0..<600 {
            parameters.forEach { $0.zeroGradient() }
            loss().backward()
            optimizer.update()
        }
        let final = loss().value[0]
        XCTAssertLessThan(final, initial / 100, "MLP loss \(initial) → \(final)")
    }

    func testTinyConvolutionalAutoencoderOverfitsABatch() {
        var random = RandomStream(seed: 4)
        let encoder = Conv2d("enc", inputs: 1, outputs: 8, stride: 2, random: &random)
        let block = ResidualBlock("res", channels: 8, groups: 2, random: &random)
        let decoder = Conv2d("dec", inputs: 8, outputs: 1, random: &random)
        let parameters = encoder.parameters + block.parameters + decoder.parameters
        // A smooth batch of 4 fields on an 8×16 grid.
        let x = Tensor(uninitializedShape: [4, 8, 16, 1])
        for b in 0..<4 { for i in 0..<8 { for j in 0..<16 {
            x[(b * 8 + i) * 16 + j] = Float(sin(Double(j + b) * 0.4) * cos(Double(i) * 0.3 * Double(b + 1)))
        } } }
        let weights = Tensor(shape: [8, 16], repeating: 1)
        let optimizer = AdamW(parameters: parameters, learningRate: 3e-3, weightDecay: 0)
        func loss() -> Variable {
            .weightedMeanSquaredError(decoder(block(encoder(Variable(x))).upsampledNearest()), x, weights: weights)
        }
        let initial = loss().value[0]
        for _ in 0..<500 {
            parameters.forEach { $0.zeroGradient() }
            loss().backward()
            optimizer.update()
        }
        let final = loss().value[0]
        XCTAssertLessThan(final, initial / 100, "autoencoder loss \(initial) → \(final)")
    }

    func testTransformerBlockGradients() {
        var random = RandomStream(seed: 5)
        let block = TransformerBlock("t", width: 8, heads: 2, random: &random)
        let x = randomTensor([2, 3, 8], seed: 6)
        // Gradient with respect to the input through the whole block, causal attention.
        checkGradients("transformer block", inputs: [x]) { block($0[0], causal: true) }
        // Keeping months 1..<3 gives those rows of the full block, and gradients through
        // the months that serve only as keys and values.
        let x4 = randomTensor([2, 4, 8], seed: 7)
        let full = GradientRecording.disabled { block(Variable(x4)).slice(time: 1..<3).value }
        let kept = GradientRecording.disabled { block(Variable(x4), keeping: 1..<3).value }
        XCTAssertEqual(kept.shape, [2, 2, 8])
        for i in 0..<full.count { XCTAssertEqual(kept[i], full[i], accuracy: 1e-5) }
        checkGradients("transformer block keeping 1..<3", inputs: [x4]) { block($0[0], keeping: 1..<3) }
    }

    /// AdamW's first steps against the update written out by hand.
    func testAdamWFollowsTheFormula() {
        let parameter = Parameter(name: "w", value: Tensor(shape: [2], values: [1, -2]))
        let optimizer = AdamW(parameters: [parameter], learningRate: 0.1, weightDecay: 0.5)
        var w: [Double] = [1, -2], m: [Double] = [0, 0], v: [Double] = [0, 0]
        for step in 1...3 {
            let g: [Double] = [0.3 * Double(step), -0.7]
            parameter.gradient[0] = Float(g[0]); parameter.gradient[1] = Float(g[1])
            optimizer.update()
            for i in 0..<2 {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                let mh = m[i] / (1 - pow(0.9, Double(step))), vh = v[i] / (1 - pow(0.999, Double(step)))
                w[i] = w[i] * (1 - 0.1 * 0.5) - 0.1 * mh / (vh.squareRoot() + 1e-8)
                XCTAssertEqual(Double(parameter.value[i]), w[i], accuracy: 1e-5)
            }
        }
    }

    func testAdamWStateRestoresExactly() throws {
        let parameter = Parameter(name: "w", value: randomTensor([3], seed: 7))
        let optimizer = AdamW(parameters: [parameter])
        parameter.gradient.assign(randomTensor([3], seed: 8))
        optimizer.update()
        let copy = AdamW(parameters: [parameter])
        try copy.restore(optimizer.state)
        XCTAssertEqual(copy.step, 1)
        XCTAssertEqual(copy.state["adam.v.w"]!.values, optimizer.state["adam.v.w"]!.values)
        XCTAssertThrowsError(try copy.restore([:]))
    }

    func testGradientClippingScalesToTheNorm() {
        let a = Parameter(name: "a", value: Tensor(shape: [2])), b = Parameter(name: "b", value: Tensor(shape: [1]))
        a.gradient.assign(Tensor(shape: [2], values: [3, 0])); b.gradient.assign(Tensor(shape: [1], values: [4]))
        XCTAssertEqual(clipGradientNorm([a, b], maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(a.gradient[0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(b.gradient[0], 0.8, accuracy: 1e-5)
        XCTAssertEqual(clipGradientNorm([a, b], maxNorm: 10), 1, accuracy: 1e-4, "no change under the limit")
        XCTAssertEqual(a.gradient[0], 0.6, accuracy: 1e-5)
    }

    func testWarmupCosineSchedule() {
        let schedule = LearningRateSchedule(peak: 1, floor: 0.1, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(schedule.rate(at: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(schedule.rate(at: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(schedule.rate(at: 60), 0.55, accuracy: 1e-5, "half way down the cosine")
        XCTAssertEqual(schedule.rate(at: 110), 0.1, accuracy: 1e-6)
        XCTAssertEqual(schedule.rate(at: 500), 0.1, accuracy: 1e-6)
    }

    func testExponentialMovingAverage() {
        let parameter = Parameter(name: "w", value: Tensor(shape: [1], values: [0]))
        let ema = ExponentialMovingAverage(parameters: [parameter], decay: 0.9)
        parameter.value[0] = 1
        ema.update(); ema.update()
        XCTAssertEqual(ema.shadows[0][0], 1 - 0.81, accuracy: 1e-6)
    }

    func testThreadCountDoesNotChangeResults() {
        let x = randomTensor([4, 16, 32, 8], seed: 9), w = randomTensor([3, 3, 8, 8], seed: 10)
        func run() -> [Float] {
            let input = Variable(requiringGradient: x)
            let y = Variable.groupNorm(.conv2d(input, weight: Variable(w), bias: nil, padding: .geographic),
                                       groups: 4, gamma: Variable(Tensor(shape: [8], repeating: 1)),
                                       beta: Variable(Tensor(shape: [8]))).silu()
            y.sum().backward()
            return y.value.values + input.gradient!.values
        }
        ComputeThreads.configure(1)
        let single = run()
        ComputeThreads.configure(2, loopWorkers: 2)
        let double = run()
        ComputeThreads.configure(1)
        let worst = zip(single, double).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-4, "1 vs 2 threads differ by \(worst)")
    }

    /// A whole-batch step on the engine's workers (`onEngineWorkers`, as `--batch-parts 1`
    /// trains) gives bit for bit the values and gradients of one thread, through the VAE's
    /// layers: convolutions direct and im2col, group norm, SiLU, upsampling and dense layers.
    func testEngineWorkersGiveTheSingleThreadResultBitForBit() {
        let x = randomTensor([6, 16, 32, 8], seed: 11), w = randomTensor([3, 3, 8, 16], seed: 12)
        let v = randomTensor([3, 3, 16, 32], seed: 13), dense = randomTensor([4, 32], seed: 14)
        func run() -> [Float] {
            let input = Variable(requiringGradient: x), first = Variable(requiringGradient: w)
            let second = Variable(requiringGradient: v), head = Variable(requiringGradient: dense)
            let h = Variable.groupNorm(.conv2d(input, weight: first, bias: nil, padding: .geographic), groups: 4,
                                       gamma: Variable(Tensor(shape: [16], repeating: 1)), beta: Variable(Tensor(shape: [16]))).silu()
            let y = Variable.conv2d(h.upsampledNearest(), weight: second, bias: nil, padding: .geographic).silu()
            let z = Variable.linear(y, weight: head, bias: nil)
            (z * z).sum().backward()
            return z.value.values + input.gradient!.values + first.gradient!.values + second.gradient!.values + head.gradient!.values
        }
        ComputeThreads.configure(1)
        let single = run()
        ComputeThreads.configure(2)
        let workers = ComputeThreads.onEngineWorkers { run() }
        ComputeThreads.configure(1)
        XCTAssertEqual(single.count, workers.count)
        let differing = zip(single, workers).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "\(differing) of \(single.count) values differ between 1 thread and 2 engine workers")
    }
}
