import ArgumentParser
import EnsembleGen

@main
struct EnsembleGenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ensemblegen",
        abstract: "Generate large climate ensembles with a latent diffusion model, written as CF-compliant NetCDF.",
        version: EnsembleGenVersion.string,
        subcommands: [InfoCommand.self, MergeCommand.self, SimulateCommand.self, TrainVAECommand.self, ReconstructCommand.self, TrainDiffusionCommand.self, FitUnresolvedCommand.self, CalibrateSpreadCommand.self, RepackCommand.self, GenerateCommand.self, CompressCommand.self, DecompressCommand.self, DiagnoseCommand.self, BaselineCommand.self, EvaluateCommand.self]
    )
}
