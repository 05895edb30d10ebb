// Files of a model directory besides the VAE: the diffusion network (EMA weights,
// configuration, latent statistics) and the conditioning member's latent series.

import Climate
import Foundation
import RandomStreams
import Tensor

/// How a diffusion checkpoint stores the network's weight matrices (`--weight-precision`):
/// Float32, or Float16 at half the size (biases, norms, statistics and calibration stay
/// Float32). Computation is in Float32 either way.
public enum WeightPrecision: String, Codable, Sendable, CaseIterable {
    case float32, float16
}

extension LatentDiffusion {
    /// Format 2: the statistics' arrays are Float32 tensors `statistics.*`.
    public static let format = "ensemblegen-diffusion/2"
    /// Format 1 held the statistics as JSON text in the metadata, 4 times the bytes; still read.
    static let formatWithStatisticsInMetadata = "ensemblegen-diffusion/1"

    /// File name of a generator's checkpoint inside a model directory.
    public static func fileName(_ kind: GeneratorKind) -> String { "diffusion-\(kind.rawValue).safetensors" }

    /// Tensors and metadata: the generator's parameters, the statistics' arrays and the
    /// configuration, calibration and provenance (`write` stores the weight matrices in `weightPrecision`).
    public func checkpointContents(provenance: [String: String]) throws
        -> (tensors: [String: Tensor], metadata: [String: String]) {
        func json<T: Encodable>(_ value: T) throws -> String { try CheckpointMetadata.json(value) }
        var metadata = ["format": Self.format, "configuration": try json(configuration),
                        "conditioning_form": statistics.conditioningForm.rawValue, "provenance": try json(provenance),
                        "weight_precision": weightPrecision.rawValue]
        if let spreadCalibration { metadata["spread_calibration"] = try json(spreadCalibration) }
        return (generator.namedTensors.merging(statistics.checkpointTensors) { a, _ in a }, metadata)
    }

    /// Writes checkpoint contents to `path`, the weight matrices in the precision their
    /// metadata names.
    public static func write(_ contents: (tensors: [String: Tensor], metadata: [String: String]), to path: String) throws {
        let half = contents.metadata["weight_precision"] == WeightPrecision.float16.rawValue
        let float16 = half ? Set(contents.tensors.filter { $0.value.rank >= 2 && !$0.key.hasPrefix(LatentStatistics.tensorPrefix) }.keys)
                           : []
        try SafeTensors.write(contents.tensors, metadata: contents.metadata, float16: float16, to: URL(fileURLWithPath: path))
    }

    /// Reads a diffusion checkpoint (`tensors` may also hold optimiser state).
    public static func load(tensors: [String: Tensor], metadata: [String: String], path: String) throws
        -> (model: LatentDiffusion, provenance: [String: String]) {
        let inMetadata = try statisticsInMetadata(metadata, path: path)
        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            try CheckpointMetadata.decode(type, key, in: metadata, path: path)
        }
        let configuration = try decode(DiffusionConfiguration.self, "configuration")
        // Sizes come from the file: out-of-range ones would build a network that cannot run.
        let c = configuration
        let sane = (1...65_536).contains(c.latentDimension) && (1...8192).contains(c.width) && (1...256).contains(c.layers)
            && (1...64).contains(c.heads) && c.width % c.heads == 0 && (1...1200).contains(c.contextMonths)
            && (1...1200).contains(c.blockMonths) && (c.generator == .transformer || c.blockMonths == 1)
            && (1...100_000).contains(c.diffusionSteps) && (0...120).contains(c.neighbourMonths) && (1...2).contains(c.conditioningForms)
        guard sane else {
            throw ModelError.checkpoint("\(path): the network configuration \(c) is out of range; the file is damaged or was edited")
        }
        var random = RandomStream(seed: 0)
        let generator = makeSequenceGenerator(configuration, random: &random)
        try CheckpointMetadata.loadParameters(tensors, into: generator.parameters, path: path)
        let statistics: LatentStatistics
        if inMetadata {
            statistics = try decode(LatentStatistics.self, "statistics")
        } else {
            guard let form = metadata["conditioning_form"].flatMap(ConditioningForm.init(rawValue:)) else {
                throw ModelError.checkpoint("\(path): metadata 'conditioning_form' is missing or invalid")
            }
            statistics = try LatentStatistics(checkpointTensors: tensors, conditioningForm: form, path: path)
        }
        try statistics.validate(dimension: configuration.latentDimension, path: path)
        guard statistics.conditioningForm.count == configuration.conditioningForms else {
            throw ModelError.checkpoint("\(path): the statistics give the conditioning as \(statistics.conditioningForm) but the network takes \(configuration.conditioningForms) value(s) per latent dimension; the file is damaged or was edited")
        }
        guard let precision = WeightPrecision(rawValue: metadata["weight_precision"] ?? WeightPrecision.float32.rawValue) else {
            throw ModelError.checkpoint("\(path): metadata 'weight_precision' is '\(metadata["weight_precision"] ?? "")', not float32 or float16; the file is damaged or was edited")
        }
        let calibration = try metadata["spread_calibration"].map { _ in try decode(SpreadCalibration.self, "spread_calibration") }
        if let calibration, calibration.scale.count != configuration.latentDimension {
            throw ModelError.checkpoint("\(path): the spread calibration has \(calibration.scale.count) factors for \(configuration.latentDimension) latent dimensions; run `ensemblegen calibrate-spread` again")
        }
        let model = LatentDiffusion(generator: generator, statistics: statistics, spreadCalibration: calibration)
        model.weightPrecision = precision
        return (model, try decode([String: String].self, "provenance"))
    }

    /// Stores `calibration` in the checkpoint at `path`, replacing any before; its tensors
    /// (in their precision) and other metadata stay as they are.
    public static func store(_ calibration: SpreadCalibration, inCheckpoint path: String) throws {
        let (tensors, read) = try SafeTensors.read(URL(fileURLWithPath: path))
        var metadata = read
        _ = try statisticsInMetadata(metadata, path: path)
        metadata["spread_calibration"] = try CheckpointMetadata.json(calibration)
        try write((tensors, metadata), to: path)
    }

    /// Rewrites the checkpoint at `path` in the current format with its weight matrices in
    /// `weightPrecision`; the model it holds is otherwise unchanged.
    public static func rewrite(_ path: String, weightPrecision: WeightPrecision) throws {
        let (model, provenance) = try load(path)
        try model.rewrite(path, weightPrecision: weightPrecision, provenance: provenance)
    }

    /// Writes this model (loaded from `path` with `provenance`) back to `path` in the current
    /// format with its weight matrices in `weightPrecision`.
    public func rewrite(_ path: String, weightPrecision: WeightPrecision, provenance: [String: String]) throws {
        self.weightPrecision = weightPrecision
        try Self.write(try checkpointContents(provenance: provenance), to: path)
    }

    /// Whether `metadata` is of format 1 (statistics as JSON text); fails unless it is of
    /// format 1 or the current format.
    private static func statisticsInMetadata(_ metadata: [String: String], path: String) throws -> Bool {
        if metadata["format"] == formatWithStatisticsInMetadata { return true }
        try CheckpointMetadata.requireFormat(format, kind: "diffusion", in: metadata, path: path)
        return false
    }

    public static func load(_ path: String) throws -> (model: LatentDiffusion, provenance: [String: String]) {
        let (tensors, metadata) = try SafeTensors.read(URL(fileURLWithPath: path))
        return try load(tensors: tensors, metadata: metadata, path: path)
    }
}

/// The conditioning member's latents z_c [T, D] with its time axis: what generation is
/// conditioned on unless the user gives another file.
public struct ConditioningSeries: Sendable {
    public static let fileName = "conditioning.safetensors"
    public static let format = "ensemblegen-conditioning/1"

    public var latents: [Float]
    public var dimension: Int
    public var time: TimeAxis
    /// Member name (or index) in the source data and the source file(s).
    public var member: String
    public var source: String

    public init(latents: [Float], dimension: Int, time: TimeAxis, member: String, source: String) {
        self.latents = latents
        self.dimension = dimension
        self.time = time
        self.member = member
        self.source = source
    }

    public func save(to path: String) throws {
        let time = try CheckpointMetadata.json(self.time)
        try SafeTensors.write(["latents": Tensor(shape: [self.time.count, dimension], values: latents)],
                              metadata: ["format": Self.format, "time": time, "member": member, "source": source],
                              to: URL(fileURLWithPath: path))
    }

    public static func load(_ path: String) throws -> ConditioningSeries {
        let (tensors, metadata) = try SafeTensors.read(URL(fileURLWithPath: path))
        guard metadata["format"] == format, let latents = tensors["latents"], latents.rank == 2,
              let text = metadata["time"], let time = try? JSONDecoder().decode(TimeAxis.self, from: Data(text.utf8)),
              time.count == latents.shape[0] else {
            throw ModelError.checkpoint("\(path): not a valid EnsembleGen conditioning file")
        }
        return ConditioningSeries(latents: latents.values, dimension: latents.shape[1], time: time,
                                  member: metadata["member"] ?? "?", source: metadata["source"] ?? "?")
    }
}

/// The statistics' arrays as checkpoint tensors (format 2), with their shapes.
extension LatentStatistics {
    static let tensorPrefix = "statistics."

    var checkpointTensors: [String: Tensor] {
        let d = residualScale.count
        let arrays: [(String, [Int], [Float]?)] = [
            ("conditioning_mean", [d], conditioningMean), ("conditioning_scale", [d], conditioningScale),
            ("residual_scale", [d], residualScale), ("residual_seasonal_scale", [12, d], residualSeasonalScale),
            ("residual_autocorrelation", [d, innovationOrder], residualAutocorrelation),
            ("residual_eigenvectors", [d, d], residualEigenvectors), ("residual_eigenvalues", [d], residualEigenvalues)]
        var tensors: [String: Tensor] = [:]
        for (name, shape, values) in arrays {
            if let values { tensors[Self.tensorPrefix + name] = Tensor(shape: shape, values: values) }
        }
        return tensors
    }

    init(checkpointTensors tensors: [String: Tensor], conditioningForm: ConditioningForm, path: String) throws {
        func array(_ name: String) -> [Float]? { tensors[Self.tensorPrefix + name]?.values }
        func required(_ name: String) throws -> [Float] {
            guard let values = array(name) else {
                throw ModelError.checkpoint("\(path): the checkpoint has no tensor '\(Self.tensorPrefix + name)'; the file is damaged or was edited")
            }
            return values
        }
        self.init(conditioningMean: try required("conditioning_mean"), conditioningScale: try required("conditioning_scale"),
                  residualScale: try required("residual_scale"), residualSeasonalScale: array("residual_seasonal_scale"),
                  residualAutocorrelation: array("residual_autocorrelation"),
                  residualEigenvectors: array("residual_eigenvectors"), residualEigenvalues: array("residual_eigenvalues"),
                  conditioningForm: conditioningForm)
    }

    /// Refuses statistics whose arrays do not fit `d` latent dimensions or whose scales are
    /// not positive: they come from a file and would otherwise index out of range or divide by zero.
    func validate(dimension d: Int, path: String) throws {
        func check(_ ok: Bool, _ what: String) throws {
            guard ok else { throw ModelError.checkpoint("\(path): the latent statistics' \(what) for \(d) latent dimensions; the file is damaged or was edited") }
        }
        for (name, values) in [("conditioning mean", conditioningMean), ("conditioning scale", conditioningScale),
                               ("residual scale", residualScale)] {
            try check(values.count == d, "\(name) has \(values.count) values")
        }
        try check((conditioningScale + residualScale + (residualSeasonalScale ?? [])).allSatisfy { $0 > 0 && $0.isFinite },
                  "scales are not all positive")
        try check(residualSeasonalScale.map { $0.count == 12 * d } ?? true, "seasonal scale has \(residualSeasonalScale?.count ?? 0) values, not 12 per dimension,")
        try check(residualAutocorrelation.map { $0.count % d == 0 } ?? true, "autocorrelations have \(residualAutocorrelation?.count ?? 0) values, not p per dimension,")
        try check((residualEigenvectors == nil) == (residualEigenvalues == nil), "whitening lacks its eigenvectors or eigenvalues")
        try check(residualEigenvectors.map { $0.count == d * d } ?? true, "eigenvectors are not a square matrix")
        try check(residualEigenvalues.map { $0.count == d && $0.allSatisfy { $0 > 0 && $0.isFinite } } ?? true,
                  "eigenvalues are not \(d) positive values")
    }
}
