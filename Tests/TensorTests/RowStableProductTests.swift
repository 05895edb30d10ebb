import XCTest
@testable import Tensor

/// The row-stable dense layer: against a straightforward double-precision sum, and each row
/// bit-identical however many rows are computed with it and wherever it sits.
final class RowStableProductTests: XCTestCase {
    /// y[r, o] = bias[o] + Σ_i x[r, i] · weight[o, inputs.lowerBound + i] for o in `outputs`, in Double.
    private func reference(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, inputs: Range<Int>, outputs: Range<Int>) -> [Float] {
        let rows = x.count / inputs.count, allInputs = weight.shape[1]
        var y: [Float] = []
        for r in 0..<rows {
            for o in outputs {
                var total = Double(bias?[o] ?? 0)
                for i in 0..<inputs.count { total += Double(x[r * inputs.count + i]) * Double(weight[o * allInputs + inputs.lowerBound + i]) }
                y.append(Float(total))
            }
        }
        return y
    }

    private func linear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, inputs: Range<Int>, outputs: Range<Int>) -> [Float] {
        GradientRecording.disabled {
            Variable.linear(Variable(x), weight: Variable(weight), bias: bias.map { Variable($0) }, outputs: outputs, inputs: inputs).value.values
        }
    }

    /// Shapes with whole tiles, partial tiles, a last block of 16 columns, widths that are no
    /// multiple of 16 and single rows wider than 256 columns, with and without bias, input and
    /// output ranges.
    private let cases: [(rows: Int, allInputs: Int, allOutputs: Int, inputs: Range<Int>, outputs: Range<Int>, bias: Bool)] = [
        (16, 40, 64, 0..<40, 0..<64, true), (15, 37, 48, 0..<37, 0..<48, true), (1, 20, 5, 0..<20, 0..<5, false),
        (9, 50, 96, 10..<50, 32..<96, true), (21, 33, 70, 0..<17, 3..<61, true), (7, 300, 130, 0..<300, 0..<130, false),
        (3, 24, 600, 0..<24, 20..<580, true),
    ]

    func testMatchesTheDefinitionAndOpenBLAS() {
        for (index, c) in cases.enumerated() {
            let x = randomTensor([c.rows, c.inputs.count], seed: UInt64(10 + index)), w = randomTensor([c.allOutputs, c.allInputs], seed: 2)
            let bias = c.bias ? randomTensor([c.allOutputs], seed: 3) : nil
            let expected = reference(x, w, bias, inputs: c.inputs, outputs: c.outputs)
            let stable = RowStableProducts.enabled { linear(x, w, bias, inputs: c.inputs, outputs: c.outputs) }
            let blas = linear(x, w, bias, inputs: c.inputs, outputs: c.outputs)
            // Running sums of ~1-sized products: relative error ≲ 4 · 2⁻²⁴ · terms / √2 at the worst of these outputs.
            let tolerance = max(1e-5, 4 * 0x1p-24 * Float(c.inputs.count + 1) / Float(2).squareRoot())
            for (name, values) in [("row-stable", stable), ("OpenBLAS", blas)] {
                XCTAssertEqual(values.count, expected.count, "case \(index) \(name)")
                let worst = zip(values, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                XCTAssertLessThan(worst, tolerance, "case \(index) \(name): worst relative difference \(worst)")
            }
        }
    }

    /// Row r of a product of n rows equals, bit for bit, the same values computed alone, first
    /// among 2, in a whole tile or after one; OpenBLAS does not give this (its rows round by size and place).
    func testEachRowIsTheSameWhateverRowsSurroundIt() {
        for (index, c) in cases.enumerated() {
            let w = randomTensor([c.allOutputs, c.allInputs], seed: 2), bias = c.bias ? randomTensor([c.allOutputs], seed: 3) : nil
            let pool = randomTensor([24, c.inputs.count], seed: UInt64(20 + index)), k = c.inputs.count, width = c.outputs.count
            func rows(_ chosen: [Int]) -> [[Float]] {
                let x = Tensor(shape: [chosen.count, k], values: chosen.flatMap { Array(pool.values[($0 * k)..<(($0 + 1) * k)]) })
                let y = RowStableProducts.enabled { linear(x, w, bias, inputs: c.inputs, outputs: c.outputs) }
                return (0..<chosen.count).map { Array(y[($0 * width)..<(($0 + 1) * width)]) }
            }
            let alone = (0..<24).map { rows([$0])[0] }
            for chosen in [Array(0..<24), Array((0..<24).reversed()), [5, 3], Array(9..<18), [23] + Array(0..<8)] {
                for (position, row) in rows(chosen).enumerated() {
                    XCTAssertEqual(row, alone[chosen[position]], "case \(index): row \(chosen[position]) at position \(position) of \(chosen.count)")
                }
            }
        }
    }

    /// The transposed copies belong to their scope: a weight changed between scopes is seen.
    func testAWeightChangedBetweenScopesIsReadAfresh() {
        let x = randomTensor([3, 8], seed: 1), w = randomTensor([16, 8], seed: 2)
        let before = RowStableProducts.enabled { linear(x, w, nil, inputs: 0..<8, outputs: 0..<16) }
        w.pointer[0] += 1
        let after = RowStableProducts.enabled { linear(x, w, nil, inputs: 0..<8, outputs: 0..<16) }
        XCTAssertEqual(after[0], before[0] + x[0], accuracy: 1e-5)
        XCTAssertFalse(RowStableProducts.isEnabled)
    }
}
