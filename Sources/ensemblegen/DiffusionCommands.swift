import ArgumentParser
import EnsembleGen
import Foundation
import Models

/// `ensemblegen train-diffusion`: the latent diffusion model on member residuals.
struct TrainDiffusionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-diffusion",
        abstract: "Train the latent diffusion model of member residuals relative to a conditioning member.",
        discussion: """
            Encodes the members with the VAE, forms the residuals z[k, t] - z[c, t] of target members k \
            against the conditioning member c (or, with --conditioning-members, against any of those \
            members, drawing pairs per batch) and trains the sequence generator on them (v-prediction, cosine \
            schedule of 1000 noise levels, AdamW, EMA weights). The model directory receives the \
            VAE, the conditioning latents, the unresolved variability and \
            diffusion-<generator>.safetensors. Docs/models.md describes the options.

            Example: ensemblegen train-diffusion --vae vae.safetensors --data ens.nc --members 0-29 \
            --conditioning-members 0-29 --generator autoregressive --output model/
            """)

    @Option(name: .long, help: ArgumentHelp("VAE model file from train-vae.", valueName: "file"))
    var vae: String

    @OptionGroup var input: DataSelectionOptions

    @Option(name: .long, help: ArgumentHelp("Validation members, held out of the default --members.", valueName: "list"))
    var validationMembers: String?

    @Option(name: .long, help: ArgumentHelp("Member the generator is conditioned on; every other training member is modelled relative to it (default: 0).", valueName: "n"))
    var conditioningMember: Int?

    @Option(name: .long, help: ArgumentHelp("Train on pairs (c, k), k ≠ c, of these conditioning members and the training members, so the model works around any simulation, e.g. 0-29 (instead of --conditioning-member).", valueName: "list"))
    var conditioningMembers: String?

    @OptionGroup var kind: GeneratorOption

    @Option(name: .long, help: ArgumentHelp("Hidden width (default: 256).", valueName: "n"))
    var width: Int?

    @Option(name: .long, help: ArgumentHelp("Blocks (default: 4; transformer: 2).", valueName: "n"))
    var layers: Int?

    @Option(name: .long, help: ArgumentHelp("Context months (default: 3; transformer: 8).", valueName: "n"))
    var contextMonths: Int?

    @Option(name: .long, help: ArgumentHelp("Transformer: new months per window (default: 40).", valueName: "n"))
    var blockMonths: Int?

    @Option(name: .long, help: ArgumentHelp("Transformer: ± months in each token (default: 1).", valueName: "n"))
    var neighbourMonths: Int?

    @Flag(name: .long, inversion: .prefixedNo, help: "Scale residuals to unit RMS per calendar month.")
    var seasonalScaling = true

    @Option(name: .long, help: ArgumentHelp("Model the innovations of an AR(p) filter; 0: residuals.", valueName: "p"))
    var innovationOrder: Int = 0

    @Flag(name: .long, help: "Whiten across latent dimensions.")
    var whitenResiduals = false

    @Option(name: .long, help: ArgumentHelp("Whitening: eigenvalue floor, a fraction of the mean.", valueName: "x"))
    var whiteningFloor: Float = Whitening.defaultFloor

    @Option(name: .long, help: ArgumentHelp("Input of the conditioning member: its normalised latents (level), or those and the same filtered like the residuals (both).", valueName: "form"))
    var conditioningForm: ConditioningForm = .level

    @Option(name: .long, help: ArgumentHelp("How the model file stores the weight matrices: float32, or float16 at half the size (computation stays float32).", valueName: "precision"))
    var weightPrecision: WeightPrecision = .float32

    @Option(name: .long, help: ArgumentHelp("Epochs of --steps-per-epoch steps.", valueName: "n"))
    var epochs: Int = 10

    @Option(name: .long, help: ArgumentHelp("Optimiser steps per epoch.", valueName: "n"))
    var stepsPerEpoch: Int = 500

    @Option(name: .long, help: ArgumentHelp("Sequences per mini-batch.", valueName: "n"))
    var batchSize: Int = 64

    @OptionGroup var parallelism: BatchPartsOption

    @Option(name: .long, help: ArgumentHelp("Peak AdamW learning rate.", valueName: "rate"))
    var learningRate: Float = 1e-3

    @Option(name: .long, help: ArgumentHelp("Random seed.", valueName: "n"))
    var seed: UInt64 = 1

    @OptionGroup var compute: ThreadsOption

    @Option(name: [.short, .long], help: ArgumentHelp("Model directory to write.", valueName: "dir"))
    var output: String

    @Flag(name: .long, help: "Continue an interrupted run.")
    var resume = false

    @OptionGroup var progress: QuietOption

    var generator: GeneratorKind { kind.generator }

    func validate() throws {
        try OptionCheck.require(conditioningMember, in: 0...Int.max, "--conditioning-member")
        if conditioningMembers != nil && conditioningMember != nil {
            throw ValidationError("give either --conditioning-member or --conditioning-members, not both")
        }
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
                vae: vae, data: input.data, variable: input.variable, members: input.members, validationMembers: validationMembers,
                conditioningMember: conditioningMember ?? 0, conditioningMembers: conditioningMembers, generator: generator, width: width, layers: layers,
                contextMonths: contextMonths, blockMonths: generator == .autoregressive ? 1 : blockMonths,
                neighbourMonths: generator == .autoregressive ? nil : neighbourMonths,
                epochs: epochs, stepsPerEpoch: stepsPerEpoch, batchSize: batchSize, batchParts: parallelism.batchParts,
                learningRate: learningRate,
                seasonalScaling: seasonalScaling, innovationOrder: innovationOrder, whitened: whitenResiduals, whiteningFloor: whiteningFloor,
                conditioningForm: conditioningForm, weightPrecision: weightPrecision, seed: seed, output: output, resume: resume)
            let shown = EpochProgress(epochs: epochs, unit: "steps", quiet: progress.quiet)
            let result = try DiffusionTrainingPipeline.run(options, progress: { step, steps, epoch, loss in
                shown.step(step, of: steps, epoch: epoch, detail: String(format: "loss %.4f", loss))
            }, epochEnded: { shown.epochEnded($0.text) })
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

            The default sampler, DPM-Solver++(2M) in 12 steps, matches DDIM in 50 steps within \
            sampling noise on every evaluate metric (Docs/models.md) at a fraction of the time. \
            The shipped generators' spread calibrations are fitted with it; another sampler uses \
            them too, and generate says so.

            Example: ensemblegen generate --model model/ --members 50 --seed 7 --output gen.nc
            """)

    @OptionGroup var trained: TrainedGenerator
    @OptionGroup var count: MemberCountOptions

    @Option(name: .long, help: ArgumentHelp("First year (default: the conditioning's first).", valueName: "year"))
    var start: Int?

    @Option(name: .long, help: ArgumentHelp("Last year (default: the conditioning's last).", valueName: "year"))
    var end: Int?

    @Option(name: .long, help: ArgumentHelp("Conditioning CF file (default: the model's member).", valueName: "file"))
    var conditioning: String?

    @Option(name: .long, help: ArgumentHelp("Member of --conditioning (default: 0).", valueName: "n"))
    var conditioningMember: Int?

    @OptionGroup var sampling: SamplerOptions

    @Option(name: .long, help: ArgumentHelp("Random seed.", valueName: "n"))
    var seed: UInt64 = 1

    @Option(name: .long, help: ArgumentHelp("Members in memory (default: 16 × (threads + 1)); the members do not depend on it.", valueName: "n"))
    var batchSize: Int?

    @OptionGroup var compute: ThreadsOption

    @Option(name: [.short, .long], help: ArgumentHelp("Output NetCDF file.", valueName: "file"))
    var output: String

    @OptionGroup var storage: OutputStorageOptions

    @Flag(inversion: .prefixedNo, help: "Add the grid-scale variability the VAE does not reproduce.")
    var unresolvedVariability = true

    @OptionGroup var progress: QuietOption

    func validate() throws {
        if let start, let end, start > end { throw ValidationError("--start \(start) is after --end \(end)") }
        if conditioningMember != nil && conditioning == nil {
            throw ValidationError("--conditioning-member chooses a member of --conditioning; give the file too (the model's own conditioning series has one member)")
        }
        try OptionCheck.require(conditioningMember, in: 0...Int.max, "--conditioning-member")
        try OptionCheck.require(batchSize, in: 1...65_536, "--batch-size")
        try OptionCheck.requirePath(output, "--output")
        try OptionCheck.requirePath(conditioning, "--conditioning")
    }

    func run() throws {
        try reportingErrors {
            let chosen = sampling.resolved()
            try compute.configure()
            let bar = ProgressBar("generate", total: count.members, unit: "members", quiet: progress.quiet)
            let result = try GeneratePipeline.run(GeneratePipeline.Options(
                model: try trained.directory(), generator: trained.generator, memberCount: count.members, firstMember: count.firstMember, startYear: start,
                endYear: end, conditioning: conditioning, conditioningMember: conditioningMember ?? 0, sampler: chosen, seed: seed,
                batchSize: batchSize, output: output, storage: storage.storage,
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
            field. train-diffusion measures this on its training members; this command measures \
            it again, on other members or for a model directory without it.

            Example: ensemblegen fit-unresolved --model model/ --data ens.nc --members 1-29
            """)

    @OptionGroup var location: ModelDirectoryOption
    @OptionGroup var input: DataSelectionOptions
    @OptionGroup var compute: ThreadsOption
    @OptionGroup var progress: QuietOption

    func run() throws {
        try reportingErrors {
            try compute.configure()
            let bar = CountProgress("fit-unresolved", quiet: progress.quiet)
            let result = try UnresolvedVariabilityPipeline.run(
                UnresolvedVariabilityPipeline.Options(model: try location.directory(), data: input.data, variable: input.variable, members: input.members),
                progress: bar.update)
            bar.finish()
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
            Compares the grid-point ensemble variance of --generated-members generated members \
            with that of the training members --members and scales the residuals at each latent \
            location by the square root of the ratio, --iterations times. The factors are stored \
            in the generator's checkpoint (replacing earlier ones) and hold for the sampler fitted \
            with; `generate` applies them. Use training members only, not evaluation members.

            Example: ensemblegen calibrate-spread --model model/ --generator transformer --data ens.nc --members 0-29
            """)

    @OptionGroup var trained: TrainedGenerator
    @OptionGroup var input: DataOptions

    @Option(name: .long, help: ArgumentHelp("Training members whose spread the generated members should have, e.g. 0-29.", valueName: "list"))
    var members: String

    @Option(name: .long, help: ArgumentHelp("Members generated for the comparison.", valueName: "n"))
    var generatedMembers: Int = 32

    @OptionGroup var sampling: SamplerOptions

    @Option(name: .long, help: ArgumentHelp("Updates of the factors (each decodes once more).", valueName: "n"))
    var iterations: Int = 2

    @Option(name: .long, help: ArgumentHelp("Compare every n-th month; n coprime with 12 sees every calendar month.", valueName: "n"))
    var monthStride: Int = 5

    @Option(name: .long, help: ArgumentHelp("Random seed of the generated members.", valueName: "n"))
    var seed: UInt64 = 1

    @OptionGroup var compute: ThreadsOption
    @OptionGroup var progress: QuietOption

    func validate() throws {
        try OptionCheck.require(generatedMembers, in: 2...OptionCheck.maximumMembers, "--generated-members", "the spread needs at least two members")
        try OptionCheck.require(iterations, in: 1...100, "--iterations")
        try OptionCheck.require(monthStride, in: 1...1200, "--month-stride")
    }

    func run() throws {
        try reportingErrors {
            let sampler = sampling.resolved()
            try compute.configure()
            let bar = CountProgress("calibrate-spread", unit: "member-months", quiet: progress.quiet)
            let result = try SpreadCalibrationPipeline.run(
                .init(model: try trained.directory(), generator: trained.generator, data: input.data, variable: input.variable, members: members,
                      generatedMembers: generatedMembers, sampler: sampler, seed: seed, iterations: iterations,
                      monthStride: monthStride), progress: bar.update)
            bar.finish()
            print(result.text)
        }
    }
}
