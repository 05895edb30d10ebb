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

    @OptionGroup var input: DataSelectionOptions

    @Option(name: .long, help: ArgumentHelp("Validation members, held out of the default --members.", valueName: "list"))
    var validationMembers: String?

    @Option(name: .long, help: ArgumentHelp("Passes over the training fields.", valueName: "n"))
    var epochs: Int = 8

    @Option(name: .long, help: ArgumentHelp("Fields per mini-batch.", valueName: "n"))
    var batchSize: Int = 32

    @OptionGroup var parallelism: BatchPartsOption

    @Option(name: .long, help: ArgumentHelp("Fields drawn per epoch (default: all).", valueName: "n"))
    var samplesPerEpoch: Int?

    @Option(name: .long, help: ArgumentHelp("Peak AdamW learning rate.", valueName: "rate"))
    var learningRate: Float = 2e-3

    @Option(name: .long, help: ArgumentHelp("Channels of the latent grid.", valueName: "n"))
    var latentChannels: Int = 2

    @Option(name: .long, help: ArgumentHelp("Widths per level, multiples of 8; n levels shrink 2^(n-1)×.", valueName: "list"))
    var channels: String = "16,32,64"

    @Option(name: .long, help: ArgumentHelp("Weight of the KL term.", valueName: "weight"))
    var klWeight: Float = 1e-4

    @Option(name: .long, help: "Anomaly scale: one for the globe (loss in K) or per grid point.")
    var scaling: AnomalyNormalization.Scaling = .global

    @Flag(name: .long, inversion: .prefixedNo, help: "Carry each field's global-mean anomaly as a latent value of its own, outside the network, so fields warmer than any in training (future scenarios) are represented.")
    var separateGlobalMean = true

    @Option(name: .long, help: ArgumentHelp("Fields for the validation RMSE after each epoch.", valueName: "n"))
    var validationSamples: Int = 1024

    @Option(name: .long, help: ArgumentHelp("Steps between saves of the resumable state.", valueName: "n"))
    var checkpointInterval: Int = 200

    @Option(name: .long, help: ArgumentHelp("Random seed.", valueName: "n"))
    var seed: UInt64 = 1

    @OptionGroup var compute: ThreadsOption

    @Option(name: [.short, .long], help: ArgumentHelp("Model file to write (safetensors).", valueName: "file"))
    var output: String

    @Flag(name: .long, help: "Continue an interrupted run (<file>.training-state).")
    var resume = false

    @OptionGroup var progress: QuietOption

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
        _ = try channelWidths()
    }

    /// `--channels` as integers: multiples of 8 (the group normalisation's groups) up to 4096.
    func channelWidths() throws -> [Int] {
        let widths = channels.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ $0 != nil && (1...4096).contains($0!) && $0! % 8 == 0 }) else {
            throw ValidationError("--channels must be multiples of 8 (the group normalisation's groups) up to 4096, separated by commas, e.g. 16,32,64, not '\(channels)'")
        }
        return widths.map { $0! }
    }

    func run() throws {
        try reportingErrors {
            let widths = try channelWidths()
            try compute.configure()
            let options = VAETrainingPipeline.Options(
                data: input.data, variable: input.variable, trainingMembers: input.members, validationMembers: validationMembers,
                configuration: VAEConfiguration(channels: widths, latentChannels: latentChannels, klWeight: klWeight),
                scaling: scaling, separateGlobalMean: separateGlobalMean, epochs: epochs, batchSize: batchSize,
                batchParts: parallelism.batchParts, samplesPerEpoch: samplesPerEpoch,
                learningRate: learningRate, validationSamples: validationSamples, checkpointInterval: checkpointInterval,
                seed: seed, output: output, resume: resume)
            let shown = EpochProgress(epochs: epochs, unit: "batches", quiet: progress.quiet)
            let started = Date()
            var samplesDone = 0
            let result = try VAETrainingPipeline.run(options, progress: { step, steps, epoch, loss in
                samplesDone += batchSize
                let rate = Double(samplesDone) / Date().timeIntervalSince(started)
                shown.step(step, of: steps, epoch: epoch, detail: String(format: "loss %.4f  %.0f samples/s", loss, rate))
            }, epochEnded: { shown.epochEnded($0.text) })
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

    @Option(name: .long, help: ArgumentHelp("VAE file or model directory (default: Data/default).", valueName: "file-or-dir"))
    var model: String?

    @OptionGroup var input: DataSelectionOptions

    @Option(name: [.short, .long], help: ArgumentHelp("Also write the reconstruction to this NetCDF file.", valueName: "file"))
    var output: String?

    @OptionGroup var storage: OutputStorageOptions
    @OptionGroup var compute: ThreadsOption
    @OptionGroup var progress: QuietOption

    func validate() throws {
        try OptionCheck.requirePath(output, "--output")
        try OptionCheck.requirePath(model, "--model")
    }

    func run() throws {
        try reportingErrors {
            try compute.configure()
            let bar = CountProgress("reconstruct", quiet: progress.quiet)
            let result = try ReconstructPipeline.run(
                ReconstructPipeline.Options(model: try DefaultModel.vaePath(model), data: input.data, variable: input.variable, members: input.members, output: output,
                                            storage: storage.storage),
                progress: bar.update)
            bar.finish()
            print(result.text)
        }
    }
}
