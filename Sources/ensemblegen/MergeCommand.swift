import ArgumentParser
import EnsembleGen
import Foundation

/// `ensemblegen merge FILE… --output ENS.nc`: one CF ensemble file from one-member files.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine one-member CF files (same variable, grid and time) into one ensemble file with a realization dimension.")

    @Argument(help: "Input NetCDF files, one or more members each, in member order.")
    var files: [String]

    @Option(name: [.short, .long], help: "Output NetCDF file (written as <output>.partial, renamed when complete).")
    var output: String

    @Option(name: .long, help: "Data variable to merge (default: the single gridded field).")
    var variable: String?

    @Option(name: .long, help: "zlib deflate level of the output, 1-4.")
    var deflateLevel: Int = 1

    @Option(name: .long, help: "Dimension order: time-first (time, realization, lat, lon; the default, readable by every CF tool including CDO) or realization-first (realization, time, lat, lon; CDO cannot read it).")
    var layout: String = OutputLayout.timeFirst.rawValue

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws { try OptionCheck.requirePath(output, "--output") }

    func run() throws {
        do {
            guard let layout = OutputLayout(rawValue: layout) else {
                throw ValidationError("--layout must be realization-first or time-first, not '\(layout)'")
            }
            let options = MergePipeline.Options(inputs: files, output: output, variable: variable,
                                                deflateLevel: deflateLevel, commandLine: CommandLine.arguments,
                                                layout: layout)
            let progress = CountProgress("merge", quiet: quiet)
            let result = try MergePipeline.run(options, progress: progress.update)
            progress.finish()
            print(result.text)
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }
}
