import ArgumentParser
import Climate
import EnsembleGen
import Foundation

/// `ensemblegen compress ENS.nc --max-error 0.05 --output ENS.egc.nc`.
struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Store an ensemble file with every value within --max-error of the original, in a fraction of the space.",
        discussion: """
            Each field is predicted by the mean of its month of year plus the file's own leading \
            EOFs (their number and the coefficients' step are searched per file); the rest is \
            quantised so that |original − decompressed| ≤ --max-error at every value, and \
            entropy-coded. The output is a NetCDF-4 file holding the original's coordinates, \
            attributes and time axis verbatim, the basis and the codes; `ensemblegen decompress` \
            rebuilds the CF file. Any grid; complete monthly or annual fields. See \
            Docs/compression.md.

            Example: ensemblegen compress ens.nc --max-error 0.05 --output ens.egc.nc
            """)

    @Argument(help: ArgumentHelp("Ensemble NetCDF file to compress.", valueName: "file"))
    var input: String

    @Option(name: .long, help: ArgumentHelp("Largest allowed |original − decompressed| at any value, in K.", valueName: "kelvin"))
    var maxError: Double

    @OptionGroup var field: VariableOption

    @Option(name: .long, help: ArgumentHelp("Number of EOFs in the prediction, 0 for none (default: searched, at most 1024).", valueName: "n"))
    var modes: Int?

    @Option(name: [.short, .long], help: ArgumentHelp("Compressed file to write (via <file>.partial).", valueName: "file"))
    var output: String

    @OptionGroup var compute: ThreadsOption
    @OptionGroup var progress: QuietOption

    func validate() throws {
        try OptionCheck.requirePositive(maxError, "--max-error")
        if let modes, modes < 0 { throw ValidationError("--modes must be 0 or more (got \(modes))") }
        try OptionCheck.requirePath(output, "--output")
    }

    func run() throws {
        try reportingErrors {
            try compute.configure()
            let options = CompressPipeline.Options(input: input, output: output, variable: field.variable, maxError: maxError, modes: modes)
            let bar = CountProgress("compress", unit: "steps", quiet: progress.quiet)
            let result = try CompressPipeline.run(options, progress: bar.update)
            bar.finish()
            print(result.text)
        }
    }
}

/// `ensemblegen decompress ENS.egc.nc --output ENS.nc`.
struct DecompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decompress",
        abstract: "Rebuild the CF file `compress` stored, or some members and years of it.",
        discussion: """
            Writes the original's dimensions, coordinates and attributes verbatim and the data \
            variable with every value within the recorded --max-error of the original. Only the \
            selected members and years are decoded. See Docs/compression.md.

            Example: ensemblegen decompress ens.egc.nc --members 0-9 --start 1950 --end 2000 --output part.nc
            """)

    @Argument(help: ArgumentHelp("File written by `ensemblegen compress`.", valueName: "file"))
    var input: String

    @Option(name: .long, help: ArgumentHelp("Member indices from 0, e.g. 0-9,12 (default: all).", valueName: "list"))
    var members: String?

    @Option(name: .long, help: ArgumentHelp("First year to keep (default: the first).", valueName: "year"))
    var start: Int?

    @Option(name: .long, help: ArgumentHelp("Last year to keep (default: the last).", valueName: "year"))
    var end: Int?

    @Option(name: .long, help: ArgumentHelp("zlib deflate level of the data variable, 0 (none) to 9.", valueName: "level"))
    var deflateLevel: Int = 1

    @Option(name: [.short, .long], help: ArgumentHelp("CF NetCDF file to write (via <file>.partial).", valueName: "file"))
    var output: String

    @OptionGroup var compute: ThreadsOption
    @OptionGroup var progress: QuietOption

    func validate() throws {
        try OptionCheck.require(deflateLevel, in: OutputStorage.deflateLevels, "--deflate-level")
        if let start, let end, start > end { throw ValidationError("--start \(start) is after --end \(end)") }
        try OptionCheck.requirePath(output, "--output")
    }

    func run() throws {
        try reportingErrors {
            try compute.configure()
            let options = DecompressPipeline.Options(input: input, output: output, members: members, startYear: start,
                                                     endYear: end, storage: OutputStorage(chunking: .fields, deflateLevel: deflateLevel))
            let bar = CountProgress("decompress", quiet: progress.quiet)
            let result = try DecompressPipeline.run(options, progress: bar.update)
            bar.finish()
            print(result.text)
        }
    }
}
