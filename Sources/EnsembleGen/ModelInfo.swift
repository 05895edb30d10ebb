import Climate
import Foundation
import Models

/// A summary of a model directory (`vae.safetensors`, `conditioning.safetensors`, the
/// `diffusion-<generator>.safetensors` files and the unresolved variability): what
/// `ensemblegen info DIRECTORY` prints.
public enum ModelInfo {
    /// Lines describing each file of the model directory `directory` that is present.
    /// Fails, naming the directory, when it holds no model file at all.
    public static func describe(directory: String) throws -> String {
        let model = ModelDirectory(directory)
        var lines = ["\(directory) (model directory)"]
        if model.contains(ModelDirectory.vaeFileName) {
            let vae = try model.vae()
            let c = vae.configuration, latent = vae.latentShape
            lines.append("  vae             channels \(c.channels.map(String.init).joined(separator: ", ")); latents "
                         + "\(latent.map(String.init).joined(separator: " × "))\(vae.separatesGlobalMean ? " + global mean" : "") (\(vae.latentDimension) values, compression "
                         + "\(String(format: "%.3g", vae.compressionRatio))); grid \(vae.grid.summary)")
        }
        if model.contains(ConditioningSeries.fileName) {
            let series = try model.conditioning()
            let years = series.time.years
            lines.append("  conditioning    member \(series.member) of \(series.source), \(series.time.count) time steps "
                         + "\(years.first ?? 0)–\(years.last ?? 0)")
        }
        for kind in GeneratorKind.allCases where model.contains(LatentDiffusion.fileName(kind)) {
            let (diffusion, provenance) = try model.diffusion(kind)
            lines.append("  \(kind.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) "
                         + network(diffusion.configuration) + (diffusion.weightPrecision == .float32 ? "" : ", weights \(diffusion.weightPrecision.rawValue)")
                         + "; " + learns(diffusion.statistics))
            let training = [("epochs", "epochs"), ("steps_per_epoch", "steps per epoch"), ("batch_size", "batch"),
                            ("training_members", "members"), ("conditioning_members", "conditioning members"), ("data", "data")]
                .compactMap { key, label in provenance[key].map { "\(label) \($0)" } }
            if !training.isEmpty { lines.append("                  trained: " + training.joined(separator: ", ")) }
            lines.append("                  spread calibration: " + (diffusion.spreadCalibration?.summary ?? "none"))
        }
        if try model.unresolvedVariability() != nil {
            lines.append("  unresolved      \(UnresolvedVariability.fileName): added to generated members by default")
        }
        guard lines.count > 1 else {
            throw EnsembleGenError("\(directory): holds no model files (\(ModelDirectory.vaeFileName), \(ConditioningSeries.fileName), diffusion-<generator>.safetensors); info describes NetCDF files and model directories")
        }
        if let record = try TrainingRecord.summary(directory: directory) {
            let parts = [record.sourceID.map { "source_id \($0)" }, record.experimentID.map { "experiment_id \($0)" },
                         record.trainingMembers.map { "members \($0)" }, record.dataSHA256.map { "data sha256 \($0)" },
                         record.version.map { "by EnsembleGen \($0)" }].compactMap { $0 }
            lines.append("  \(TrainingRecord.fileName)   " + (parts.isEmpty ? "no provenance keys" : parts.joined(separator: ", ")))
        }
        return lines.joined(separator: "\n")
    }

    private static func network(_ c: DiffusionConfiguration) -> String {
        switch c.generator {
        case .autoregressive:
            return "MLP width \(c.width), \(c.layers) blocks, context \(c.contextMonths) months"
        case .transformer:
            return "transformer width \(c.width), \(c.layers) blocks, \(c.heads) heads, windows of \(c.contextMonths) + "
                + "\(c.blockMonths) months, neighbour months \(c.neighbourMonths)"
        }
    }

    /// What the network learns and is given (`LatentStatistics`).
    private static func learns(_ s: LatentStatistics) -> String {
        var parts = [s.residualSeasonalScale != nil ? "seasonal scaling" : "no seasonal scaling"]
        parts.append(s.innovationOrder > 0 ? "AR(\(s.innovationOrder)) innovations" : "residuals")
        if s.isWhitened { parts.append("whitened") }
        parts.append("conditioning \(s.conditioningForm.rawValue)")
        return parts.joined(separator: ", ")
    }
}
