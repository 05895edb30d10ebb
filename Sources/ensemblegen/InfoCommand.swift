import ArgumentParser
import EnsembleGen
import Foundation

/// `ensemblegen info FILE…`: a semantic summary of each file.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Summarise CF temperature files (variable, units, grid, calendar, time range and step, members, missing values) or model directories (networks, what they learn, training).")

    @Argument(help: ArgumentHelp("NetCDF files or model directories, each summarised on its own.", valueName: "file-or-dir"))
    var files: [String]

    @OptionGroup var field: VariableOption
    @OptionGroup var output: QuietOption

    func run() throws {
        for (k, file) in files.enumerated() {
            do {
                var isDirectory: ObjCBool = false
                if file.hasSuffix(".safetensors") {
                    throw EnsembleGenError("\(file): a model file; info describes NetCDF files and model directories: give the directory that holds it")
                }
                let text = FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) && isDirectory.boolValue
                    ? try ModelInfo.describe(directory: file)
                    : try CompressedEnsembleInfo.describe(path: file) ?? EnsembleInfo.inspect(paths: [file], variable: field.variable).text
                print((k > 0 ? "\n" : "") + text)
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
