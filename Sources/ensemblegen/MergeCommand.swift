import ArgumentParser
import EnsembleGen
import Foundation

/// `ensemblegen merge FILE… --output ENS.nc`: one CF ensemble file from one-member files.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine one-member CF files (same variable, grid and time) into one ensemble file with a realization dimension.")

    @Argument(help: ArgumentHelp("Input NetCDF files of one or more members each, in member order.", valueName: "file"))
    var files: [String]

    @Option(name: [.short, .long], help: ArgumentHelp("Output NetCDF file (via <file>.partial).", valueName: "file"))
    var output: String

    @OptionGroup var field: VariableOption

    @OptionGroup var storage: OutputStorageOptions

    @OptionGroup var dimensions: LayoutOption
    @OptionGroup var progress: QuietOption

    func validate() throws { try OptionCheck.requirePath(output, "--output") }

    func run() throws {
        do {
            let options = MergePipeline.Options(inputs: files, output: output, variable: field.variable,
                                                storage: storage.storage, commandLine: CommandLine.arguments,
                                                layout: dimensions.layout)
            let bar = CountProgress("merge", quiet: progress.quiet)
            let result = try MergePipeline.run(options, progress: bar.update)
            bar.finish()
            print(result.text)
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }
}
