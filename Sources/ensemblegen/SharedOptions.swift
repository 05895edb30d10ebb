import ArgumentParser
import EnsembleGen

/// `--batch-parts`, shared by the training commands.
struct BatchPartsOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Split each mini-batch into this many parts, back-propagated at the same time on separate cores.",
        discussion: "The weights depend on this number but not on --threads, so a run is reproducible on any machine. 1: the whole batch with multi-threaded BLAS (slower: only the matrix products use every core)."))
    var batchParts: Int = BatchGradients.defaultParts

    func validate() throws {
        try OptionCheck.require(batchParts, in: 1...1024, "--batch-parts")
    }
}

/// `--threads`, shared by the commands that compute.
struct ThreadsOption: ParsableArguments {
    @Option(name: .long, help: "Threads (default: ENSEMBLEGEN_THREADS or all cores).")
    var threads: Int?

    func validate() throws {
        try OptionCheck.require(threads, in: 1...ComputeSettings.maximumThreads, "--threads")
        do { _ = try ComputeSettings.environmentThreads() } catch { throw ValidationError("\(error)") }
    }

    /// Sets the engine's thread count from the option, the environment or the core count.
    func configure() throws { try ComputeSettings.configure(threads: threads) }
}
