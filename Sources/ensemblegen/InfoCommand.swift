import ArgumentParser
import EnsembleGen
import Foundation

/// `ensemblegen info FILE…`: a semantic summary of each file.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Summarise CF temperature files: variable, units, grid, calendar, time range and step, members, missing values.")

    @Argument(help: "NetCDF files to describe (each summarised on its own).")
    var files: [String]

    @Option(name: .long, help: "Data variable to describe (default: the single gridded field).")
    var variable: String?

    func run() throws {
        for (k, file) in files.enumerated() {
            do {
                let info = try EnsembleInfo.inspect(paths: [file], variable: variable)
                print((k > 0 ? "\n" : "") + info.text)
            } catch {
                printError(error)
                throw ExitCode.failure
            }
        }
    }
}

/// Prints `error: <message>` as one line on standard error.
func printError(_ error: Error) {
    FileHandle.standardError.write(Data("error: \(oneLineErrorMessage(error))\n".utf8))
}
