import CBLAS
import Dispatch

/// Data-parallel gradients: a mini-batch split into parts whose graphs are built and
/// back-propagated at the same time, one part per core, each with single-threaded OpenBLAS.
///
/// With OpenBLAS alone on several threads only the GEMMs use every core; the engine's own
/// loops (im2col and col2im, normalisation, activations, bias and residual adds) run on one.
/// Parts keep every core busy with all of it. Each part accumulates into its own gradient
/// buffers, and the buffers are added to the parameters' gradients in part order at the end,
/// so the result does not depend on how many workers ran the parts.
public enum DataParallel {
    /// The part whose graph the current thread builds (nil: outside `accumulateGradients`).
    @TaskLocal static var part: Int?

    /// Adds to every parameter's `gradient` the gradient of Σ_p loss(p), p = 0 ..< `parts`.
    /// `loss(p)` builds part p's loss (weighted by the caller so that the parts add up to the
    /// mini-batch's loss) from the parameters' `variable`s; parts run on
    /// min(parts, `ComputeThreads.count`) workers. Returns each part's loss value.
    /// `loss` must not switch gradient recording off or on (it is global).
    public static func accumulateGradients(parameters: [Parameter], parts: Int, _ loss: (Int) -> Variable) -> [Float] {
        precondition(parts >= 1, "data parallel: \(parts) parts")
        for parameter in parameters {
            if parameter.partGradients.count != parts {
                parameter.partGradients = (0..<parts).map { _ in Tensor(shape: parameter.value.shape) }
            } else {
                parameter.partGradients.forEach { $0.fill(0) }
            }
        }
        let workers = max(1, min(parts, ComputeThreads.count))
        var values = [Float](repeating: 0, count: parts)
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(ComputeThreads.count)) }
        values.withUnsafeMutableBufferPointer { values in
            let results = values
            func run(worker: Int) {
                for p in stride(from: worker, to: parts, by: workers) {
                    $part.withValue(p) {
                        let value = loss(p)
                        value.backward()
                        results[p] = value.value[0]
                    }
                }
            }
            if workers == 1 { run(worker: 0) } else { DispatchQueue.concurrentPerform(iterations: workers) { run(worker: $0) } }
        }
        for parameter in parameters {
            for buffer in parameter.partGradients { addInPlace(parameter.gradient, buffer) }
        }
        return values
    }
}

extension DataParallel {
    /// Rows of part `part` of `parts` contiguous, near-equal parts of `x` along its first
    /// axis (a copy), and their share of the rows, the weight of the part's mean loss.
    public static func part(_ part: Int, of parts: Int, _ x: Tensor) -> (rows: Tensor, share: Float) {
        let n = x.shape[0], stride = x.count / max(n, 1)
        let range = Self.range(part, of: parts, count: n)
        let rows = Tensor(uninitializedShape: [range.count] + x.shape.dropFirst())
        rows.pointer.update(from: x.pointer + range.lowerBound * stride, count: range.count * stride)
        return (rows, Float(range.count) / Float(n))
    }

    /// Items of part `part` when `count` items are split into `parts` contiguous, near-equal parts.
    public static func range(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        (part * count / parts)..<((part + 1) * count / parts)
    }
}
