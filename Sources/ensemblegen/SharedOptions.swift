import ArgumentParser
import EnsembleGen

/// `--batch-parts`, shared by the training commands.
struct BatchPartsOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Split each mini-batch into this many parts, back-propagated at the same time on separate cores.",
        discussion: "The weights depend on this number but not on --threads, so a run is reproducible on any machine. 1: the whole batch with multi-threaded BLAS (slower: only the matrix products use every core)."))
    var batchParts: Int = BatchGradients.defaultParts

    func validate() throws {
        guard batchParts >= 1 else { throw ValidationError("--batch-parts must be at least 1") }
    }
}

/// `--threads`, shared by the commands that compute.
struct ThreadsOption: ParsableArguments {
    @Option(name: .long, help: "Threads (default: ENSEMBLEGEN_THREADS or all cores).")
    var threads: Int?

    /// Sets the engine's thread count from the option, the environment or the core count.
    func configure() { ComputeSettings.configure(threads: threads) }
}
