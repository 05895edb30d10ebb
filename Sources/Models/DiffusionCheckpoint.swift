// Files of a model directory besides the VAE: the diffusion network (EMA weights,
// configuration, latent statistics) and the conditioning member's latent series.

import Climate
import Foundation
import RandomStreams
import Tensor

extension LatentDiffusion {
    public static let format = "ensemblegen-diffusion/1"

    /// File name of a generator's checkpoint inside a model directory.
    public static func fileName(_ kind: GeneratorKind) -> String { "diffusion-\(kind.rawValue).safetensors" }

    /// Tensors and metadata: the generator's parameters plus configuration and statistics.
    public func checkpointContents(provenance: [String: String]) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func json<T: Encodable>(_ value: T) throws -> String { try CheckpointMetadata.json(value) }
        var metadata = ["format": Self.format, "configuration": try json(configuration), "statistics": try json(statistics),
                        "provenance": try json(provenance)]
        if let spreadCalibration { metadata["spread_calibration"] = try json(spreadCalibration) }
        return (generator.namedTensors, metadata)
    }

    /// Reads a diffusion checkpoint (`tensors` may also hold optimiser state).
    public static func load(tensors: [String: Tensor], metadata: [String: String], path: String) throws
        -> (model: LatentDiffusion, provenance: [String: String]) {
        try CheckpointMetadata.requireFormat(format, kind: "diffusion", in: metadata, path: path)
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
        let statistics = try decode(LatentStatistics.self, "statistics")
        guard statistics.conditioningForm.count == configuration.conditioningForms else {
            throw ModelError.checkpoint("\(path): the statistics give the conditioning as \(statistics.conditioningForm) but the network takes \(configuration.conditioningForms) value(s) per latent dimension; the file is damaged or was edited")
        }
        let calibration = try metadata["spread_calibration"].map { _ in try decode(SpreadCalibration.self, "spread_calibration") }
        if let calibration, calibration.scale.count != configuration.latentDimension {
            throw ModelError.checkpoint("\(path): the spread calibration has \(calibration.scale.count) factors for \(configuration.latentDimension) latent dimensions; run `ensemblegen calibrate-spread` again")
        }
        return (LatentDiffusion(generator: generator, statistics: statistics, spreadCalibration: calibration),
                try decode([String: String].self, "provenance"))
    }

    /// Stores `calibration` in the checkpoint at `path`, replacing any before; its tensors
    /// and other metadata stay as they are.
    public static func store(_ calibration: SpreadCalibration, inCheckpoint path: String) throws {
        let url = URL(fileURLWithPath: path)
        let (tensors, read) = try SafeTensors.read(url)
        var metadata = read
        try CheckpointMetadata.requireFormat(format, kind: "diffusion", in: metadata, path: path)
        metadata["spread_calibration"] = try CheckpointMetadata.json(calibration)
        try SafeTensors.write(tensors, metadata: metadata, to: url)
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
