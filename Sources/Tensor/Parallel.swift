import CBLAS
import Dispatch

/// How many cores the engine uses: OpenBLAS threads, and the workers of the engine's own
/// element-wise, im2col and normalisation loops.
///
/// By default only OpenBLAS is multi-threaded. OpenBLAS's worker threads keep spinning for
/// a while after each GEMM returns, so Dispatch workers started between GEMMs fight them
/// for the cores: measured on 2 cores, decoding 3000 VAE fields took 23.8 s with both
/// multi-threaded (34 s of system time) against 9.1 s with OpenBLAS alone on 2 threads.
public enum ComputeThreads {
    nonisolated(unsafe) static var workers = 1
    nonisolated(unsafe) static var blasThreads = 1
    /// Set while `concurrently` runs (written only by its outermost caller).
    nonisolated(unsafe) static var isConcurrent = false

    /// Uses `count` OpenBLAS threads (≥ 1) and `loopWorkers` workers for the engine's own loops.
    public static func configure(_ count: Int, loopWorkers: Int = 1) {
        blasThreads = max(1, count)
        workers = max(1, loopWorkers)
        openblas_set_num_threads(Int32(blasThreads))
    }

    /// The OpenBLAS thread count in use.
    public static var count: Int { blasThreads }

    /// Runs `body` with OpenBLAS single-threaded and the engine's own loops on `count`
    /// workers (restored afterwards): for one large computation whose time is in the engine's
    /// kernels, such as a VAE training step on a whole batch, where OpenBLAS's spinning
    /// threads would take the cores from them. Results do not depend on `count`: every GEMM
    /// runs on one thread and the loops' chunks are summed in a fixed order. Inside
    /// `concurrently`, or with one thread, `body` just runs.
    public static func onEngineWorkers<T>(_ body: () throws -> T) rethrows -> T {
        if isConcurrent || blasThreads <= 1 { return try body() }
        let saved = workers
        openblas_set_num_threads(1)
        workers = blasThreads
        defer {
            workers = saved
            openblas_set_num_threads(Int32(blasThreads))
        }
        return try body()
    }

    /// Runs `body(worker, workers)` on `workers = min(count, jobs)` threads at once, with
    /// OpenBLAS single-threaded meanwhile (restored afterwards). For independent work items
    /// such as ensemble members, whose GEMMs are too small for OpenBLAS to split well: each
    /// worker keeps one core busy with GEMMs and the engine's own loops alike. Because every
    /// GEMM inside runs single-threaded, results do not depend on the worker count.
    /// Inference only: gradient recording is off inside. A nested call runs its jobs in the
    /// calling worker.
    public static func concurrently(jobs: Int, _ body: (_ worker: Int, _ workers: Int) -> Void) {
        if isConcurrent { return body(0, 1) }
        let workers = max(1, min(blasThreads, jobs))
        openblas_set_num_threads(1)
        isConcurrent = true
        defer {
            isConcurrent = false
            openblas_set_num_threads(Int32(blasThreads))
        }
        GradientRecording.disabled {
            if workers == 1 {
                body(0, 1)
            } else {
                DispatchQueue.concurrentPerform(iterations: workers) { body($0, workers) }
            }
        }
    }
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
