import ArgumentParser
import Climate
import EnsembleGen

// Options shared by several commands, declared once each: the help text, default and
// checks of an option are the same wherever it appears.

/// `-q`/`--quiet`, accepted by every command.
struct QuietOption: ParsableArguments {
    @Flag(name: .shortAndLong, help: "No progress bars on standard error.")
    var quiet = false
}

/// `--variable`: the data variable of the input files.
struct VariableOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Data variable (default: the single gridded field).", valueName: "name"))
    var variable: String?
}

/// `--members` as a list of member indices of an input file.
struct MemberListOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Member indices from 0, e.g. 0-29,35 (default: all).", valueName: "list"))
    var members: String?
}

/// `--data` and `--variable`: the input ensemble of the training and model commands.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("CF NetCDF ensemble; repeat for one file per member.", valueName: "file"))
    var data: [String]

    @OptionGroup var field: VariableOption

    var variable: String? { field.variable }
}

/// `--data`, `--variable` and `--members`: the members of an input ensemble to use.
struct DataSelectionOptions: ParsableArguments {
    @OptionGroup var files: DataOptions
    @OptionGroup var selection: MemberListOption

    var data: [String] { files.data }
    var variable: String? { files.variable }
    var members: String? { selection.members }
}

/// `--members` and `--first-member`: how many members to write and the number of the first,
/// for commands whose member k depends only on the seed and k (an ensemble made in batches).
struct MemberCountOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Number of members to write.", valueName: "n"))
    var members: Int = 10

    @Option(name: .long, help: ArgumentHelp("Number of the first member (batches).", valueName: "n"))
    var firstMember: Int = 0

    func validate() throws { try OptionCheck.requireMembers(members, first: firstMember) }
}

/// `--chunking` and `--deflate-level`: how an ensemble output's data variable is stored.
struct OutputStorageOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Chunk shape: fields (one month's map per chunk: fast maps, CDO) or time-series (up to 2048 months on 8x16-cell tiles: fast per-cell series, slow maps and CDO). See Docs/output-format.md.",
        valueName: "shape"))
    var chunking: OutputStorage.Chunking = .fields

    @Option(name: .long, help: ArgumentHelp("zlib deflate level, 0 (none) to 9; 1 compresses nearly as well as 9, faster.",
                                            valueName: "level"))
    var deflateLevel: Int = 1

    func validate() throws { try OptionCheck.require(deflateLevel, in: OutputStorage.deflateLevels, "--deflate-level") }

    var storage: OutputStorage { OutputStorage(chunking: chunking, deflateLevel: deflateLevel) }
}

/// `--layout`: the dimension order of an ensemble output.
struct LayoutOption: ParsableArguments {
    @Option(name: .long, help: "Dimension order of the output; CDO reads only time-first.")
    var layout: OutputLayout = .timeFirst
}

/// `--batch-parts`, shared by the training commands.
struct BatchPartsOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Mini-batch parts run in parallel; the weights depend on it, not on --threads.",
        valueName: "n"))
    var batchParts: Int = BatchGradients.defaultParts

    func validate() throws {
        try OptionCheck.require(batchParts, in: 1...1024, "--batch-parts")
    }
}

/// `--threads`, shared by the commands that compute.
struct ThreadsOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Threads (default: ENSEMBLEGEN_THREADS or all cores).", valueName: "n"))
    var threads: Int?

    func validate() throws {
        try OptionCheck.require(threads, in: 1...ComputeSettings.maximumThreads, "--threads")
        do { _ = try ComputeSettings.environmentThreads() } catch { throw ValidationError("\(error)") }
    }

    /// Sets the engine's thread count from the option, the environment or the core count.
    func configure() throws { try ComputeSettings.configure(threads: threads) }
}
