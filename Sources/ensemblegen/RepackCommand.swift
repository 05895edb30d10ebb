import ArgumentParser
import EnsembleGen
import Foundation
import Models

/// `ensemblegen repack --model DIR --generator G --weight-precision float16`: a generator's
/// checkpoint rewritten in the current format, its weight matrices in the given precision.
struct RepackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repack",
        abstract: "Rewrite a trained generator's checkpoint in the current file format, its weight matrices in float32 or float16.",
        discussion: """
            float16 halves the weight matrices (the statistics, biases and calibration stay \
            float32; computation is float32 either way). The network is otherwise unchanged, but \
            rounding its weights moves the spread a little: run calibrate-spread again after \
            changing the precision. train-diffusion --weight-precision float16 writes the same \
            file directly.

            Example: ensemblegen repack --model model/ --weight-precision float16 && \
            ensemblegen calibrate-spread --model model/ --data ens.nc --members 0-29
            """)

    @Option(name: .long, help: ArgumentHelp("Model directory whose checkpoint is rewritten in place.", valueName: "dir"))
    var model: String

    @OptionGroup var kind: GeneratorOption

    @Option(name: .long, help: ArgumentHelp("How to store the weight matrices: float32 or float16.", valueName: "precision"))
    var weightPrecision: WeightPrecision

    func run() throws {
        try reportingErrors {
            let started = Date(), directory = ModelDirectory(model), generator = kind.generator
            let path = try directory.require(LatentDiffusion.fileName(generator))
            let before = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            let calibrated = try directory.diffusion(generator).model.spreadCalibration != nil
            try directory.repack(generator, weightPrecision: weightPrecision)
            try TrainingRecord.update(directory: model, step: "repack_\(generator.rawValue)", started: started)
            let after = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            print(String(format: "repacked %@: %.1f MB → %.1f MB, weight matrices in %@", path, Double(before) / 1e6, Double(after) / 1e6,
                         weightPrecision.rawValue))
            if calibrated {
                print("note: its spread calibration was fitted before; refit it with `ensemblegen calibrate-spread --model \(model) --generator \(generator.rawValue) --data <training data>`")
            }
        }
    }
}
