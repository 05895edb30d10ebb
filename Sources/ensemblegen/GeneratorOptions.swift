import ArgumentParser
import EnsembleGen
import Models

/// `--sampler`, `--steps`, `--eta`, `--kept-months`, shared by generate and calibrate-spread.
struct SamplerOptions: ParsableArguments {
    @Option(name: .long, help: "Reverse-diffusion sampler: dpm-solver is DPM-Solver++(2M), second order, deterministic; ddim is first order (--eta adds noise); ddpm is ancestral.")
    var sampler: SamplerKind = .dpmSolver

    @Option(name: .long, help: ArgumentHelp("Sampling steps, 1-\(NoiseSchedule.defaultSteps) (default: 12 dpm-solver, 50 ddim, \(NoiseSchedule.defaultSteps) ddpm).", valueName: "n"))
    var steps: Int?

    @Option(name: .long, help: ArgumentHelp("DDIM noise, 0 (deterministic) to 1.", valueName: "eta"))
    var eta: Double = 0

    @Option(name: .long, help: ArgumentHelp("Transformer: months of each window kept before the next starts (default: the whole block).", valueName: "n"))
    var keptMonths: Int?

    func validate() throws {
        try OptionCheck.require(steps, in: 1...NoiseSchedule.defaultSteps, "--steps", "the diffusion models have \(NoiseSchedule.defaultSteps) noise levels")
        try OptionCheck.require(eta, in: 0...1, "--eta")
        if sampler == .dpmSolver && eta != 0 {
            throw ValidationError("--eta is DDIM's noise; --sampler dpm-solver is deterministic (use --sampler ddim --eta \(eta))")
        }
        try OptionCheck.require(keptMonths, in: 1...Int.max, "--kept-months")
    }

    /// The sampler these options describe.
    func resolved() -> LatentDiffusion.Sampler {
        switch sampler {
        case .ddim: return .ddim(steps: steps ?? sampler.defaultSteps, eta: eta, keptMonths: keptMonths)
        case .ddpm: return .ddpm(steps: steps ?? sampler.defaultSteps, keptMonths: keptMonths)
        case .dpmSolver: return .dpmSolver(steps: steps ?? sampler.defaultSteps, keptMonths: keptMonths)
        }
    }
}

/// `--generator`: which of a model directory's sequence generators.
struct GeneratorOption: ParsableArguments {
    @Option(name: .long, help: "Sequence generator: monthly MLP or windowed transformer.")
    var generator: GeneratorKind = .autoregressive
}

/// `--model`: a model directory.
struct ModelDirectoryOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Model directory (default: the shipped Data/default).", valueName: "dir"))
    var model: String?

    /// The model directory given, or the shipped one.
    func directory() throws -> String { try model ?? DefaultModel.locate() }
}

/// `--model` and `--generator`: a trained generator of a model directory (generate, calibrate-spread).
struct TrainedGenerator: ParsableArguments {
    @OptionGroup var location: ModelDirectoryOption
    @OptionGroup var kind: GeneratorOption

    var generator: GeneratorKind { kind.generator }

    /// The model directory given, or the shipped one.
    func directory() throws -> String { try location.directory() }
}
