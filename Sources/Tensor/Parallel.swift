import CBLAS
import Dispatch

/// How many cores the engine uses: OpenBLAS threads and the workers of element-wise,
/// im2col and normalisation loops.
public enum ComputeThreads {
    nonisolated(unsafe) static var workers = 1

    /// Sets both OpenBLAS's and the engine's thread count (≥ 1).
    public static func configure(_ count: Int) {
        let n = max(1, count)
        workers = n
        openblas_set_num_threads(Int32(n))
    }

    /// The thread count in use.
    public static var count: Int { workers }
}

/// Runs `body(range)` over `0..<count` split into contiguous chunks, in parallel when the
/// work is large enough to pay for the dispatch (`grain` = minimum items per chunk).
@inline(__always)
func parallelChunks(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let workers = ComputeThreads.workers
    if workers <= 1 || count < 2 * grain {
        if count > 0 { body(0..<count) }
        return
    }
    let chunks = min(workers, (count + grain - 1) / grain)
    let size = (count + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = chunk * size
        let end = min(count, start + size)
        if start < end { body(start..<end) }
    }
}

/// Element-wise loops split at this many elements per chunk.
let elementwiseGrain = 1 << 15
