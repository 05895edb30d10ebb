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

    @Option(name: .long, help: "Dimension order: realization-first (realization, time, lat, lon; the CF output contract) or time-first (time, realization, lat, lon; readable by CDO).")
    var layout: String = OutputLayout.realizationFirst.rawValue

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func run() throws {
        do {
            guard let layout = OutputLayout(rawValue: layout) else {
                throw ValidationError("--layout must be realization-first or time-first, not '\(layout)'")
            }
            let options = MergePipeline.Options(inputs: files, output: output, variable: variable,
                                                deflateLevel: deflateLevel, commandLine: CommandLine.arguments,
                                                layout: layout)
            var bar: ProgressBar?
            let result = try MergePipeline.run(options) { done, total in
                if bar == nil { bar = ProgressBar("merge", total: total, unit: "members", quiet: quiet) }
                bar?.update(done)
            }
            print(result.text)
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }
}
