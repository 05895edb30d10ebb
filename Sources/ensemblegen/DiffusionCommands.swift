import ArgumentParser
import EnsembleGen
import Foundation
import Models

extension GeneratorKind: ExpressibleByArgument {}
extension ConditioningForm: ExpressibleByArgument {}

/// `ensemblegen train-diffusion`: the latent diffusion model on member residuals.
struct TrainDiffusionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-diffusion",
        abstract: "Train the latent diffusion model of member residuals relative to a conditioning member.",
        discussion: """
            Encodes the members with the VAE (cached in the model directory), forms residuals \
            r[m, t] = z[m, t] - z[c, t] against the conditioning member c and trains the chosen \
            sequence generator (v-prediction, cosine schedule, T = 1000, AdamW, EMA weights). \
            The model directory receives vae.safetensors, conditioning.safetensors, \
            unresolved-variability.safetensors (what the VAE does not reproduce, measured on the \
            training members; generate adds it back) and diffusion-<generator>.safetensors; a \
            killed run continues with --resume.

            Example: ensemblegen train-diffusion --vae vae.safetensors --data ens.nc --members 0-29 \
            --conditioning-member 0 --generator autoregressive --output model/
            """)

    @Option(name: .long, help: "Trained VAE (from train-vae).")
    var vae: String

    @Option(name: .long, help: "Training data (CF NetCDF; repeat for one file per member).")
    var data: [String]

    @Option(name: .long, help: "Data variable (default: the single field-like variable).")
    var variable: String?

    @Option(name: .long, help: "Training members, e.g. 0-29 (default: all except validation members).")
    var members: String?

    @Option(name: .long, help: "Held-out members for the validation loss, e.g. 30-39.")
    var validationMembers: String?

    @Option(name: .long, help: "Member whose latents condition the generator.")
    var conditioningMember: Int = 0

    @Option(name: .long, help: "Sequence generator: autoregressive or transformer.")
    var generator: GeneratorKind = .autoregressive

    @Option(name: .long, help: "Hidden width (default 256).")
    var width: Int?

    @Option(name: .long, help: "Residual MLP blocks or transformer blocks (default: 4 autoregressive, 2 transformer).")
    var layers: Int?

    @Option(name: .long, help: "Known months before each block (default: 3 autoregressive, 8 transformer).")
    var contextMonths: Int?

    @Option(name: .long, help: "New months per transformer window (default 40).")
    var blockMonths: Int?

    @Option(name: .long, help: "Transformer: months on either side whose values each token carries (default 1).")
    var neighbourMonths: Int?

    @Flag(name: .long, inversion: .prefixedNo, help: ArgumentHelp(
        "Divide the residuals per calendar month and latent dimension by their seasonal scale.",
        discussion: "The scale (RMS in each calendar month over the RMS in all months) is fitted on the training residuals and restored after sampling, so the seasonal cycle of variability, such as ENSO's peak in northern winter, is carried by the statistics instead of left to the network (Docs/models.md). Data with one time step a year get scale 1."))
    var seasonalScaling = true

    @Option(name: .long, help: ArgumentHelp(
        "Model the residuals' innovations under an AR filter of this order fitted per latent dimension (0: the residuals).",
        discussion: "Generation filters them back, so month-to-month persistence, and the continuity across transformer windows, is carried by the filter."))
    var innovationOrder: Int = 0

    @Flag(name: .long, help: ArgumentHelp(
        "Whiten what the model learns across latent dimensions (by the eigenvectors of its covariance).",
        discussion: "Every direction of the latent space then has unit variance, so patterns spread over many latent dimensions, such as ENSO, are not left to the network to correlate."))
    var whitenResiduals = false

    @Option(name: .long, help: ArgumentHelp(
        "With --whiten-residuals: eigenvalues below this fraction of their mean are raised to it.",
        discussion: "0.001 whitens every direction; 1 scales only the directions with more than the mean variance down to it."))
    var whiteningFloor: Float = Whitening.defaultFloor

    @Option(name: .long, help: ArgumentHelp(
        "What the network is given of the conditioning member: level, filtered or both.",
        discussion: "level: its normalised latents. filtered: its latents through the same innovation filter, scaling and whitening as what the network learns, where a member's residual owes minus this input to the conditioning member's own variability (experimental: it removed the transformer's over-dispersion but halved the ensemble-mean volcanic cooling, Docs/models.md). both: level and filtered."))
    var conditioningForm: ConditioningForm = .level

    @Option(name: .long, help: "Epochs (each --steps-per-epoch optimiser steps).")
    var epochs: Int = 10

    @Option(name: .long, help: "Optimiser steps per epoch.")
    var stepsPerEpoch: Int = 500

    @Option(name: .long, help: "Sequences per mini-batch.")
    var batchSize: Int = 64

    @OptionGroup var parallelism: BatchPartsOption

    @Option(name: .long, help: "Peak learning rate (AdamW; warm-up then cosine decay).")
    var learningRate: Float = 1e-3

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 1

    @OptionGroup var compute: ThreadsOption

    @Option(name: [.short, .long], help: "Model directory.")
    var output: String

    @Flag(name: .long, help: "Continue an interrupted run.")
    var resume = false

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        try OptionCheck.require(conditioningMember, in: 0...Int.max, "--conditioning-member")
        try OptionCheck.require(width, in: 1...8192, "--width")
        try OptionCheck.require(layers, in: 1...256, "--layers")
        try OptionCheck.require(contextMonths, in: 1...1200, "--context-months")
        try OptionCheck.require(blockMonths, in: 1...1200, "--block-months")
        try OptionCheck.require(neighbourMonths, in: 0...120, "--neighbour-months")
        try OptionCheck.require(innovationOrder, in: 0...120, "--innovation-order")
        try OptionCheck.requirePositive(whiteningFloor, "--whitening-floor")
        try OptionCheck.require(epochs, in: 1...100_000, "--epochs")
        try OptionCheck.require(stepsPerEpoch, in: 1...10_000_000, "--steps-per-epoch")
        try OptionCheck.require(batchSize, in: 1...65_536, "--batch-size")
        try OptionCheck.requirePositive(learningRate, "--learning-rate")
        try OptionCheck.requirePath(output, "--output")
        try OptionCheck.requirePath(vae, "--vae")
    }

    func run() throws {
        try reportingErrors {
            try compute.configure()
            let options = DiffusionTrainingPipeline.Options(
                vae: vae, data: data, variable: variable, members: members, validationMembers: validationMembers,
                conditioningMember: conditioningMember, generator: generator, width: width, layers: layers,
                contextMonths: contextMonths, blockMonths: generator == .autoregressive ? 1 : blockMonths,
                neighbourMonths: generator == .autoregressive ? nil : neighbourMonths,
                epochs: epochs, stepsPerEpoch: stepsPerEpoch, batchSize: batchSize, batchParts: parallelism.batchParts,
                learningRate: learningRate,
                seasonalScaling: seasonalScaling, innovationOrder: innovationOrder, whitened: whitenResiduals, whiteningFloor: whiteningFloor,
                conditioningForm: conditioningForm, seed: seed, output: output, resume: resume)
            let progress = EpochProgress(epochs: epochs, unit: "steps", quiet: quiet)
            let result = try DiffusionTrainingPipeline.run(options, progress: { step, steps, epoch, loss in
                progress.step(step, of: steps, epoch: epoch, detail: String(format: "loss %.4f", loss))
            }, epochEnded: { progress.epochEnded($0.text) })
            print(result.text)
        }
    }
}

/// `ensemblegen generate`: new members from a trained model directory.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate new ensemble members with a trained model and write them as CF NetCDF.",
        discussion: """
            Samples each member's latent residual with the diffusion model, adds the conditioning \
            latents, decodes with the VAE and adds the climatology back. Members are written one \
            by one (memory does not grow with --members); member k depends only on the model, the \
            conditioning, the sampler, --seed and k.

            Example: ensemblegen generate --model model/ --members 50 --sampler ddim --steps 50 --seed 7 --output gen.nc
            """)

    @OptionGroup var trained: TrainedGenerator

    @Option(name: .long, help: "Number of members.")
    var members: Int = 10

    @Option(name: .long, help: "Index of the first member (for producing an ensemble in batches).")
    var firstMember: Int = 0

    @Option(name: .long, help: "First year (default: start of the conditioning series).")
    var start: Int?

    @Option(name: .long, help: "Last year (default: end of the conditioning series).")
    var end: Int?

    @Option(name: .long, help: "Condition on this CF file instead of the model's conditioning member (same grid).")
    var conditioning: String?

    @Option(name: .long, help: "Member of --conditioning to use (default: the first).")
    var conditioningMember: Int?

    @OptionGroup var sampling: SamplerOptions

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Most members held between sampling and writing (default: 16 per thread and 16 more). Does not change the members.")
    var batchSize: Int?

    @OptionGroup var compute: ThreadsOption

    @Option(name: [.short, .long], help: "Output NetCDF file.")
    var output: String

    @Option(name: .long, help: "zlib deflate level of the output, 1-4.")
    var deflateLevel: Int = 1

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Add the grid-scale variability the VAE does not reproduce (the model's unresolved-variability.safetensors).",
        discussion: "Without it every member is a smooth VAE decoding and is over-confident at grid points."))
    var unresolvedVariability = true

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        try OptionCheck.requireMembers(members, first: firstMember)
        if let start, let end, start > end { throw ValidationError("--start \(start) is after --end \(end)") }
        if conditioningMember != nil && conditioning == nil {
            throw ValidationError("--conditioning-member chooses a member of --conditioning; give the file too (the model's own conditioning series has one member)")
        }
        try OptionCheck.require(conditioningMember, in: 0...Int.max, "--conditioning-member")
        try OptionCheck.require(batchSize, in: 1...65_536, "--batch-size")
        try OptionCheck.require(deflateLevel, in: 1...4, "--deflate-level")
        try OptionCheck.requirePath(output, "--output")
        try OptionCheck.requirePath(conditioning, "--conditioning")
    }

    func run() throws {
        try reportingErrors {
            let chosen = try sampling.resolved()
            try compute.configure()
            let bar = ProgressBar("generate", total: members, unit: "members", quiet: quiet)
            let result = try GeneratePipeline.run(GeneratePipeline.Options(
                model: try trained.directory(), generator: trained.generator, memberCount: members, firstMember: firstMember, startYear: start,
                endYear: end, conditioning: conditioning, conditioningMember: conditioningMember ?? 0, sampler: chosen, seed: seed,
                batchSize: batchSize, output: output, deflateLevel: deflateLevel,
                unresolvedVariability: unresolvedVariability)) { status in
                bar.update(status.membersWritten, detail: status.text)
            }
            bar.finish()
            print(result.text)
        }
    }
}

/// `ensemblegen fit-unresolved`: the noise model of what the VAE does not reproduce.
struct FitUnresolvedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit-unresolved",
        abstract: "Measure the grid-scale variability the VAE does not reproduce and store it in a model directory.",
        discussion: """
            Decodes the members' latents and measures original − reconstruction: its standard \
            deviation by calendar month and grid cell and its correlation between neighbouring \
            longitudes. `generate` adds Gaussian noise with these statistics to every decoded \
            field. train-diffusion already does this on its training members; use this command \
            for a model directory made before it did, or to measure on other members.

            Example: ensemblegen fit-unresolved --model model/ --data ens.nc --members 1-29
            """)

    @Option(name: .long, help: "Model directory (from train-diffusion; default: the shipped Data/default).")
    var model: String?

    @Option(name: .long, help: "Data the model was trained on (CF NetCDF; repeat for one file per member).")
    var data: [String]

    @Option(name: .long, help: "Data variable (default: the single field-like variable).")
    var variable: String?

    @Option(name: .long, help: "Members to measure on, e.g. 1-29 (default: all).")
    var members: String?

    @OptionGroup var compute: ThreadsOption

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            try compute.configure()
            let progress = CountProgress("fit-unresolved", quiet: quiet)
            let result = try UnresolvedVariabilityPipeline.run(
                UnresolvedVariabilityPipeline.Options(model: try model ?? DefaultModel.locate(), data: data, variable: variable, members: members),
                progress: progress.update)
            progress.finish()
            print(result.text)
        }
    }
}

/// `ensemblegen calibrate-spread`: per latent location, scales a trained model's generated
/// residuals so that its members spread like the training members.
struct CalibrateSpreadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate-spread",
        abstract: "Fit the factors that give a trained generator's members the training members' spread.",
        discussion: """
            Generates --generated-members members on the model's conditioning series and \
            compares their grid-point ensemble variance (decoded, plus the unresolved variability \
            generate adds) with the training members', every --month-stride-th month. At each \
            latent location the residuals are scaled by the square root of the ratio over the \
            grid cells it covers, --iterations times (the decoder is not linear). The factors \
            are stored in the generator's checkpoint; `generate` multiplies the residuals it \
            samples by them. Fit \
            with the sampler you generate with (the factors hold for it; generate says so when \
            they differ). Calibrating again replaces the factors. Use training members only: \
            members held out for evaluation would then no longer be independent of the model.

            Example: ensemblegen calibrate-spread --model model/ --generator transformer --data ens.nc --members 0-29
            """)

    @OptionGroup var trained: TrainedGenerator

    @Option(name: .long, help: "Data the model was trained on (CF NetCDF; repeat for one file per member).")
    var data: [String]

    @Option(name: .long, help: "Data variable (default: the single field-like variable).")
    var variable: String?

    @Option(name: .long, help: "Training members whose spread the generated members should have, e.g. 0-29.")
    var members: String

    @Option(name: .long, help: "Members generated for the comparison (more: smaller sampling error, longer run).")
    var generatedMembers: Int = 32

    @OptionGroup var sampling: SamplerOptions

    @Option(name: .long, help: "Updates of the factors; each decodes the generated members once more.")
    var iterations: Int = 2

    @Option(name: .long, help: "Compare every n-th month (coprime with 12 sees every calendar month).")
    var monthStride: Int = 5

    @Option(name: .long, help: "Random seed of the generated members (a stream of its own, not generate's members).")
    var seed: UInt64 = 1

    @OptionGroup var compute: ThreadsOption

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        try OptionCheck.require(generatedMembers, in: 2...OptionCheck.maximumMembers, "--generated-members", "the spread needs at least two members")
        try OptionCheck.require(iterations, in: 1...100, "--iterations")
        try OptionCheck.require(monthStride, in: 1...1200, "--month-stride")
    }

    func run() throws {
        try reportingErrors {
            let sampler = try sampling.resolved()
            try compute.configure()
            let progress = CountProgress("calibrate-spread", unit: "member-months", quiet: quiet)
            let result = try SpreadCalibrationPipeline.run(
                .init(model: try trained.directory(), generator: trained.generator, data: data, variable: variable, members: members,
                      generatedMembers: generatedMembers, sampler: sampler, seed: seed, iterations: iterations,
                      monthStride: monthStride), progress: progress.update)
            progress.finish()
            print(result.text)
        }
    }
}
