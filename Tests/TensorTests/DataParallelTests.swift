import XCTest
import RandomStreams
@testable import Tensor

/// Data-parallel gradients against the gradient of the whole batch.
final class DataParallelTests: XCTestCase {
    /// A convolution + residual block network (shared weights used twice, a skip path) on a
    /// batch of 7 fields split into 3 uneven parts: the summed part gradients equal the
    /// whole-batch gradient within float rounding (relative 10⁻⁴ of the largest entry), the
    /// part losses add up to the batch loss, and 1 or 2 workers give bit-identical results.
    func testPartGradientsAddUpToTheBatchGradient() {
        var random = RandomStream(seed: 8)
        let encoder = Conv2d("enc", inputs: 1, outputs: 8, random: &random)
        let block = ResidualBlock("res", channels: 8, groups: 2, random: &random)
        let decoder = Conv2d("dec", inputs: 8, outputs: 1, random: &random)
        let parameters = encoder.parameters + block.parameters + decoder.parameters
        let x = randomTensor([7, 8, 16, 1], seed: 9), y = randomTensor([7, 8, 16, 1], seed: 10)
        let weights = Tensor(shape: [8, 16], repeating: 1)
        func loss(_ x: Tensor, _ y: Tensor) -> Variable {
            .weightedMeanSquaredError(decoder(block(block(encoder(Variable(x))))), y, weights: weights)
        }
        parameters.forEach { $0.zeroGradient() }
        let whole = loss(x, y)
        whole.backward()
        let expected = parameters.map { $0.gradient.values }

        let threads = ComputeThreads.count
        defer { ComputeThreads.configure(threads) }
        var results: [[[Float]]] = []
        for workers in [1, 2] {
            ComputeThreads.configure(workers)
            parameters.forEach { $0.zeroGradient() }
            let values = DataParallel.accumulateGradients(parameters: parameters, parts: 3) { p in
                let (xs, share) = DataParallel.part(p, of: 3, x), (ys, _) = DataParallel.part(p, of: 3, y)
                return loss(xs, ys) * share
            }
            XCTAssertEqual(values.reduce(0, +), whole.value[0], accuracy: 1e-5 * whole.value[0])
            results.append(parameters.map { $0.gradient.values })
        }
        for (parameter, (got, want)) in zip(parameters, zip(results[1], expected)) {
            let scale = want.map(abs).max() ?? 1
            for (a, b) in zip(got, want) { XCTAssertEqual(a, b, accuracy: 1e-4 * scale, parameter.name) }
        }
        XCTAssertEqual(results[0], results[1], "1 and 2 workers must give the same gradients")
    }
}
