import ArgumentParser
import Climate
import EnsembleGen
import Foundation
import Models

/// `ensemblegen train-vae`: the first stage of the pipeline.
struct TrainVAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-vae",
        abstract: "Train the VAE that compresses monthly temperature anomalies into a latent grid.",
        discussion: """
            Fits a monthly climatology and anomaly scale on the training members, then trains a \
            convolutional VAE (residual blocks, GroupNorm, SiLU, periodic longitude padding) on \
            area-weighted reconstruction error plus a small KL term. After every epoch it prints \
            the validation RMSE in kelvin on the held-out members and writes the model; a killed run \
            continues with --resume and ends with the same weights. See Docs/models.md.

            Example: ensemblegen train-vae --data ens.nc --members 0-29 --validation-members 30-39 \
            --epochs 8 --output vae.safetensors
            """)

    @Option(name: .long, help: "Training data: a CF NetCDF file with a member dimension (repeat for one file per member).")
    var data: [String]

    @Option(name: .long, help: "Data variable (default: the single field-like variable).")
    var variable: String?

    @Option(name: .long, help: "Training members, e.g. 0-29 (default: all except the validation members).")
    var members: String?

    @Option(name: .long, help: "Held-out members for the validation RMSE, e.g. 30-39.")
    var validationMembers: String?

    @Option(name: .long, help: "Passes over the training fields.")
    var epochs: Int = 8

    @Option(name: .long, help: "Fields per mini-batch.")
    var batchSize: Int = 32

    @OptionGroup var parallelism: BatchPartsOption

    @Option(name: .long, help: "Fields drawn per epoch (default: all training fields).")
    var samplesPerEpoch: Int?

    @Option(name: .long, help: "Peak learning rate (AdamW; warm-up then cosine decay).")
    var learningRate: Float = 2e-3

    @Option(name: .long, help: "Latent channels.")
    var latentChannels: Int = 2

    @Option(name: .long, help: "Channel widths per resolution level, comma-separated; n levels downsample by 2^(n-1).")
    var channels: String = "16,32,64"

    @Option(name: .long, help: "Weight of the KL term.")
    var klWeight: Float = 1e-4

    @Option(name: .long, help: "Anomaly scaling: global (loss in kelvin) or per-grid-point.")
    var scaling: String = AnomalyNormalization.Scaling.global.rawValue

    @Option(name: .long, help: "Held-out fields used for the validation RMSE each epoch.")
    var validationSamples: Int = 1024

    @Option(name: .long, help: "Also save the resumable state every this many steps within an epoch.")
    var checkpointInterval: Int = 200

    @Option(name: .long, help: "Random seed (initialisation, shuffling, latent noise).")
    var seed: UInt64 = 1

    @OptionGroup var compute: ThreadsOption

    @Option(name: [.short, .long], help: "Output model file (safetensors).")
    var output: String

    @Flag(name: .long, help: "Continue an interrupted run from <output>.training-state.")
    var resume = false

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        try OptionCheck.require(epochs, in: 1...100_000, "--epochs")
        try OptionCheck.require(batchSize, in: 1...65_536, "--batch-size")
        try OptionCheck.require(samplesPerEpoch, in: 1...1_000_000_000, "--samples-per-epoch")
        try OptionCheck.requirePositive(learningRate, "--learning-rate")
        try OptionCheck.require(latentChannels, in: 1...256, "--latent-channels")
        try OptionCheck.require(klWeight, in: 0...1000, "--kl-weight")
        try OptionCheck.require(validationSamples, in: 0...1_000_000, "--validation-samples")
        try OptionCheck.require(checkpointInterval, in: 1...Int.max, "--checkpoint-interval")
        try OptionCheck.requirePath(output, "--output")
        let widths = channels.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ $0 != nil && (1...4096).contains($0!) && $0! % 8 == 0 }) else {
            throw ValidationError("--channels must be multiples of 8 (the group normalisation's groups) up to 4096, separated by commas, e.g. 16,32,64, not '\(channels)'")
        }
        guard AnomalyNormalization.Scaling(rawValue: scaling) != nil else {
            throw ValidationError("--scaling must be global or per-grid-point, not '\(scaling)'")
        }
    }

    func run() throws {
        try reportingErrors {
            guard let scalingKind = AnomalyNormalization.Scaling(rawValue: scaling) else {
                throw ValidationError("--scaling must be global or per-grid-point, not '\(scaling)'")
            }
            let widths = channels.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !widths.isEmpty, widths.count == channels.split(separator: ",").count, widths.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--channels must be positive integers separated by commas, e.g. 16,32,64")
            }
            try compute.configure()
            let options = VAETrainingPipeline.Options(
                data: data, variable: variable, trainingMembers: members, validationMembers: validationMembers,
                configuration: VAEConfiguration(channels: widths, latentChannels: latentChannels, klWeight: klWeight),
                scaling: scalingKind, epochs: epochs, batchSize: batchSize,
                batchParts: parallelism.batchParts, samplesPerEpoch: samplesPerEpoch,
                learningRate: learningRate, validationSamples: validationSamples, checkpointInterval: checkpointInterval,
                seed: seed, output: output, resume: resume)
            let progress = EpochProgress(epochs: epochs, unit: "batches", quiet: quiet)
            let started = Date()
            var samplesDone = 0
            let result = try VAETrainingPipeline.run(options, progress: { step, steps, epoch, loss in
                samplesDone += batchSize
                let rate = Double(samplesDone) / Date().timeIntervalSince(started)
                progress.step(step, of: steps, epoch: epoch, detail: String(format: "loss %.4f  %.0f samples/s", loss, rate))
            }, epochEnded: { progress.epochEnded($0.text) })
            print(result.text)
        }
    }
}

/// `ensemblegen reconstruct`: how well a trained VAE keeps the data.
struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Encode and decode members through a trained VAE; print the error in kelvin.",
        discussion: """
            Prints the area-weighted RMSE overall, by latitude band and in the Niño3.4 box, the \
            correlation of the Niño3.4 index of reconstruction and original, and the compression \
            ratio; with --output, writes the reconstructed members as CF NetCDF.

            Example: ensemblegen reconstruct --model vae.safetensors --data ens.nc --members 30-39 --output rec.nc
            """)

    @Option(name: .long, help: "Trained VAE (safetensors from train-vae) or a model directory (default: Data/default).")
    var model: String?

    @Option(name: .long, help: "Data to reconstruct (same grid as the model's training data).")
    var data: [String]

    @Option(name: .long, help: "Data variable (default: the single field-like variable).")
    var variable: String?

    @Option(name: .long, help: "Members to reconstruct, e.g. 30-39 (default: all).")
    var members: String?

    @Option(name: [.short, .long], help: "Write the reconstruction to this NetCDF file.")
    var output: String?

    @OptionGroup var compute: ThreadsOption

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        try OptionCheck.requirePath(output, "--output")
        try OptionCheck.requirePath(model, "--model")
    }

    func run() throws {
        try reportingErrors {
            try compute.configure()
            let progress = CountProgress("reconstruct", quiet: quiet)
            let result = try ReconstructPipeline.run(
                ReconstructPipeline.Options(model: try DefaultModel.vaePath(model), data: data, variable: variable, members: members, output: output),
                progress: progress.update)
            progress.finish()
            print(result.text)
        }
    }
}
