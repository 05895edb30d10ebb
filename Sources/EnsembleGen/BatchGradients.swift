import RandomStreams
import Tensor

/// The gradient of one mini-batch's loss, whole or in data-parallel parts (`--batch-parts`).
public enum BatchGradients {
    /// Mini-batch parts of the training commands by default: one per core of a 2-core
    /// machine. A fixed number, not the thread count, so that a training run gives the same
    /// weights on any machine; 1 is the whole batch.
    public static let defaultParts = 2

    /// Zeroes the parameters' gradients and fills them with the gradient of the mini-batch
    /// loss; returns the loss. `loss(part, parts, &random)` builds a part's mean loss and its
    /// share of the batch. One part: the whole batch with `random` itself, as before the
    /// option existed; more: `DataParallel`, part p drawing from `random.substream(p)`.
    /// `convolutional`: the whole batch runs on the engine's workers with single-threaded
    /// OpenBLAS (`ComputeThreads.onEngineWorkers`), for networks whose time is in the
    /// engine's convolution kernels (the VAE); otherwise on multi-threaded OpenBLAS.
    static func compute(parameters: [Parameter], parts: Int, random: RandomStream, convolutional: Bool = false,
                        _ loss: (_ part: Int, _ parts: Int, _ random: inout RandomStream) -> (mean: Variable, share: Float)) -> Double {
        parameters.forEach { $0.zeroGradient() }
        if parts <= 1 {
            func whole() -> Double {
                var random = random
                let mean = loss(0, 1, &random).mean
                mean.backward()
                return Double(mean.value[0])
            }
            return convolutional ? ComputeThreads.onEngineWorkers(whole) : whole()
        }
        let values = DataParallel.accumulateGradients(parameters: parameters, parts: parts) { p in
            var stream = random.substream(UInt64(p))
            let part = loss(p, parts, &stream)
            return part.mean * part.share
        }
        return values.reduce(0) { $0 + Double($1) }
    }
}

