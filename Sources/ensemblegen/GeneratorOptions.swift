import ArgumentParser
import EnsembleGen
import Models

/// `--sampler`, `--steps`, `--eta`, `--kept-months`, shared by generate and calibrate-spread.
struct SamplerOptions: ParsableArguments {
    @Option(name: .long, help: "Sampler: ddim or ddpm (ancestral).")
    var sampler: String = "ddim"

    @Option(name: .long, help: "Reverse diffusion steps (default: 50 for ddim, 1000 for ddpm).")
    var steps: Int?

    @Option(name: .long, help: "DDIM stochasticity eta (0 = deterministic).")
    var eta: Double = 0

    @Option(name: .long, help: ArgumentHelp(
        "Transformer: months of each window kept before the next starts (default: the whole block).",
        discussion: "Fewer than the block makes each window's context come from inside the previous window."))
    var keptMonths: Int?

    func validate() throws {
        guard ["ddim", "ddpm"].contains(sampler.lowercased()) else { throw ValidationError("--sampler must be ddim or ddpm, not '\(sampler)'") }
        try OptionCheck.require(steps, in: 1...NoiseSchedule.defaultSteps, "--steps", "the diffusion models have \(NoiseSchedule.defaultSteps) noise levels")
        try OptionCheck.require(eta, in: 0...1, "--eta")
        try OptionCheck.require(keptMonths, in: 1...Int.max, "--kept-months")
    }

    /// The sampler these options describe.
    func resolved() throws -> LatentDiffusion.Sampler {
        let chosen: LatentDiffusion.Sampler
        switch sampler.lowercased() {
        case "ddim": chosen = .ddim(steps: steps ?? 50, eta: eta, keptMonths: keptMonths)
        case "ddpm": chosen = .ddpm(steps: steps ?? 1000, keptMonths: keptMonths)
        default: throw ValidationError("--sampler must be ddim or ddpm, not '\(sampler)'")
        }
        guard chosen.steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        if let keptMonths, keptMonths < 1 { throw ValidationError("--kept-months must be at least 1") }
        return chosen
    }
}

/// `--model` and `--generator`: a trained generator of a model directory (generate, calibrate-spread).
struct TrainedGenerator: ParsableArguments {
    @Option(name: .long, help: "Model directory (from train-diffusion; default: the shipped Data/default).")
    var model: String?

    @Option(name: .long, help: "Sequence generator: autoregressive or transformer.")
    var generator: GeneratorKind = .autoregressive

    /// The model directory given, or the shipped one.
    func directory() throws -> String { try model ?? DefaultModel.locate() }
}
