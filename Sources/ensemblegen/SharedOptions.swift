import ArgumentParser
import EnsembleGen

// Options shared by several commands, declared once each: the help text, default and
// checks of an option are the same wherever it appears.

/// `-q`/`--quiet`, accepted by every command.
struct QuietOption: ParsableArguments {
    @Flag(name: .shortAndLong, help: "No progress bars on standard error (a no-op for commands without progress).")
    var quiet = false
}

/// `--variable`: the data variable of the input files.
struct VariableOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Data variable to read (default: the file's single gridded field).", valueName: "name"))
    var variable: String?
}

/// `--members` as a list of member indices of an input file.
struct MemberListOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Members to use: indices from 0, e.g. 0-29 or 0,3,5-7 (default: all).", valueName: "list"))
    var members: String?
}

/// `--data`, `--variable`, `--members`: the input ensemble of the training and model commands.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("CF NetCDF ensemble file; repeat for one file per member.", valueName: "file"))
    var data: [String]

    @OptionGroup var field: VariableOption
    @OptionGroup var selection: MemberListOption

    var variable: String? { field.variable }
    var members: String? { selection.members }
}

/// `--members` and `--first-member`: how many members to write and the number of the first,
/// for commands whose member k depends only on the seed and k (an ensemble made in batches).
struct MemberCountOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Number of members to write.", valueName: "n"))
    var members: Int = 10

    @Option(name: .long, help: ArgumentHelp("Realization number of the first member (batches of one ensemble).", valueName: "n"))
    var firstMember: Int = 0

    func validate() throws { try OptionCheck.requireMembers(members, first: firstMember) }
}

/// `--deflate-level`: zlib compression of a NetCDF output.
struct DeflateLevelOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("zlib deflate level of the output, 1 (fastest) to 4.", valueName: "level"))
    var deflateLevel: Int = 1

    func validate() throws { try OptionCheck.require(deflateLevel, in: 1...4, "--deflate-level") }
}

/// `--layout`: the dimension order of an ensemble output.
struct LayoutOption: ParsableArguments {
    @Option(name: .long, help: "Dimension order: time-first is (time, realization, lat, lon), readable by CDO; realization-first is (realization, time, lat, lon), which CDO cannot read.")
    var layout: OutputLayout = .timeFirst
}

/// `--batch-parts`, shared by the training commands.
struct BatchPartsOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Parts of each mini-batch back-propagated in parallel (1: one part, multi-threaded BLAS). The weights depend on it, not on --threads.",
        valueName: "n"))
    var batchParts: Int = BatchGradients.defaultParts

    func validate() throws {
        try OptionCheck.require(batchParts, in: 1...1024, "--batch-parts")
    }
}

/// `--threads`, shared by the commands that compute.
struct ThreadsOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Threads (default: ENSEMBLEGEN_THREADS, else all cores).", valueName: "n"))
    var threads: Int?

    func validate() throws {
        try OptionCheck.require(threads, in: 1...ComputeSettings.maximumThreads, "--threads")
        do { _ = try ComputeSettings.environmentThreads() } catch { throw ValidationError("\(error)") }
    }

    /// Sets the engine's thread count from the option, the environment or the core count.
    func configure() throws { try ComputeSettings.configure(threads: threads) }
}
