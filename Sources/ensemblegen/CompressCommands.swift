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
            Each field is predicted by the VAE from quantised latents; the rest is quantised so \
            that |original − decompressed| ≤ --max-error at every value, and entropy-coded. The \
            output is a NetCDF-4 file holding the original's coordinates, attributes and time axis \
            verbatim, the codes, and the VAE's SHA-256. `ensemblegen decompress` rebuilds the CF \
            file; it needs the same VAE. The data must be complete fields on the VAE's grid. See \
            Docs/compression.md.

            Example: ensemblegen compress ens.nc --max-error 0.05 --output ens.egc.nc
            """)

    @Argument(help: ArgumentHelp("Ensemble NetCDF file to compress.", valueName: "file"))
    var input: String

    @Option(name: .long, help: ArgumentHelp("Largest allowed |original − decompressed| at any value, in K.", valueName: "kelvin"))
    var maxError: Double

    @Option(name: .long, help: ArgumentHelp("VAE file or model directory on the data's grid (default: Data/default).", valueName: "file-or-dir"))
    var model: String?

    @OptionGroup var field: VariableOption

    @Option(name: .long, help: ArgumentHelp("Latent quantisation step (default: searched on the first member).", valueName: "step"))
    var latentStep: Float?

    @Option(name: [.short, .long], help: ArgumentHelp("Compressed file to write (via <file>.partial).", valueName: "file"))
    var output: String

    @OptionGroup var compute: ThreadsOption
    @OptionGroup var progress: QuietOption

    func validate() throws {
        try OptionCheck.requirePositive(maxError, "--max-error")
        if let latentStep { try OptionCheck.requirePositive(latentStep, "--latent-step") }
        try OptionCheck.requirePath(output, "--output")
    }

    func run() throws {
        try reportingErrors {
            try compute.configure()
            let options = CompressPipeline.Options(input: input, output: output, model: try model ?? DefaultModel.locate(), variable: field.variable,
                                                   maxError: maxError, latentStep: latentStep)
            let bar = CountProgress("compress", quiet: progress.quiet)
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
            selected members and years are decoded. The VAE must be the one the file was compressed \
            with (checked by SHA-256). See Docs/compression.md.

            Example: ensemblegen decompress ens.egc.nc --members 0-9 --start 1950 --end 2000 --output part.nc
            """)

    @Argument(help: ArgumentHelp("File written by `ensemblegen compress`.", valueName: "file"))
    var input: String

    @Option(name: .long, help: ArgumentHelp("VAE file or model directory (default: the one recorded in the file).", valueName: "file-or-dir"))
    var model: String?

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
            let options = DecompressPipeline.Options(input: input, output: output, model: model, members: members, startYear: start,
                                                     endYear: end, storage: OutputStorage(chunking: .fields, deflateLevel: deflateLevel))
            let bar = CountProgress("decompress", quiet: progress.quiet)
            let result = try DecompressPipeline.run(options, progress: bar.update)
            bar.finish()
            print(result.text)
        }
    }
}
