import XCTest
import RandomStreams
@testable import Tensor

/// Central finite differences against the tape's gradients.
///
/// The scalar checked is L = Σ f(inputs) ⊙ R with a fixed random R, accumulated in Double,
/// so every output element matters. For each input, `probes` coordinates (or all when
/// smaller) are perturbed by ±h; the check passes when
/// ‖numeric − analytic‖ / max(‖numeric‖, ‖analytic‖, 1e-3) < tolerance.
func checkGradients(_ name: String, inputs: [Tensor], h: Float = 1e-2, tolerance: Float = 1e-3,
                    probes: Int = 24, seed: UInt64 = 11,
                    file: StaticString = #filePath, line: UInt = #line,
                    _ f: ([Variable]) -> Variable) {
    var random = RandomStream(seed: seed, stream: 99)
    let probeOutput = f(inputs.map { Variable($0) })
    let projection = Tensor(gaussianShape: probeOutput.shape, random: &random)

    func loss(_ values: [Tensor]) -> Double {
        let out = f(values.map { Variable($0) }).value
        var total: Double = 0
        for i in 0..<out.count { total += Double(out[i]) * Double(projection[i]) }
        return total
    }

    let leaves = inputs.map { Variable(requiringGradient: $0.copy()) }
    f(leaves).backward(seed: projection)

    for (index, input) in inputs.enumerated() {
        let analyticAll = leaves[index].gradient!
        var chosen = Array(0..<input.count)
        if input.count > probes {
            var picker = RandomStream(seed: seed, stream: UInt64(index))
            chosen = (0..<probes).map { _ in Int(picker.uniform() * Double(input.count)) }
        }
        var difference: Double = 0, numericNorm: Double = 0, analyticNorm: Double = 0
        for coordinate in chosen {
            let plus = inputs.map { $0.copy() }, minus = inputs.map { $0.copy() }
            plus[index][coordinate] += h
            minus[index][coordinate] -= h
            let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
            let analytic = Double(analyticAll[coordinate])
            difference += (numeric - analytic) * (numeric - analytic)
            numericNorm += numeric * numeric
            analyticNorm += analytic * analytic
        }
        let relative = difference.squareRoot() / max(numericNorm.squareRoot(), analyticNorm.squareRoot(), 1e-3)
        XCTAssertLessThan(relative, Double(tolerance), "\(name): input \(index) relative gradient error \(relative)",
                          file: file, line: line)
    }
}

/// A reproducible Gaussian tensor.
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var random = RandomStream(seed: seed, stream: 7)
    return Tensor(gaussianShape: shape, standardDeviation: scale, random: &random)
}
