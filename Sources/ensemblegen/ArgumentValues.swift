import ArgumentParser
import Climate
import EnsembleGen
import Models
import Simulator

// The closed sets of option values. As `ExpressibleByArgument` enums, `--help` lists their
// values and argument-parser refuses any other value (exit 64) before a command runs.

extension GeneratorKind: ExpressibleByArgument {}
extension ConditioningForm: ExpressibleByArgument {}
extension AnomalyNormalization.Scaling: ExpressibleByArgument {}
extension OutputLayout: ExpressibleByArgument {}
extension LatitudeSpacing: ExpressibleByArgument {}
extension OutputStorage.Chunking: ExpressibleByArgument {}

extension ForcingScenario: ExpressibleByArgument {
    /// Accepts the names in any case.
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

extension CalendarKind: ExpressibleByArgument {
    /// The CF names and their aliases (`gregorian`, `365_day`, `366_day`), in any case.
    public init?(argument: String) { self.init(cfName: argument) }
}

/// `--sampler`: the reverse-diffusion sampler.
enum SamplerKind: String, CaseIterable, ExpressibleByArgument {
    /// Deterministic (eta 0) or partly stochastic DDIM on a subsequence of the noise levels.
    case ddim
    /// Ancestral sampling.
    case ddpm
    /// DPM-Solver++(2M): deterministic second-order multistep solver.
    case dpmSolver = "dpm-solver"

    /// Accepts the names in any case.
    init?(argument: String) { self.init(rawValue: argument.lowercased()) }

    /// Steps when `--steps` is not given.
    var defaultSteps: Int {
        switch self {
        case .ddim: return 50
        case .ddpm: return NoiseSchedule.defaultSteps
        case .dpmSolver: return 12
        }
    }
}
extension WeightPrecision: ExpressibleByArgument {}
