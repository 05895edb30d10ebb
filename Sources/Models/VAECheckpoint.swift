// A trained VAE with everything needed to use it on data: configuration, grid, anomaly
// normalisation and provenance, in one safetensors file.

import Climate
import Foundation
import RandomStreams
import Tensor

/// A VAE bound to the grid and normalisation it was trained with.
public final class TrainedVAE {
    public let model: VariationalAutoencoder
    public let normalization: AnomalyNormalization
    /// Free-form provenance (data file, members, epochs, seed, durations, RMSE).
    public var provenance: [String: String]

    public static let format = "ensemblegen-vae/1"

    public init(model: VariationalAutoencoder, normalization: AnomalyNormalization, provenance: [String: String] = [:]) {
        self.model = model
        self.normalization = normalization
        self.provenance = provenance
    }

    public var grid: Grid { normalization.grid }
    public var configuration: VAEConfiguration { model.configuration }

    /// Latent grid [lat/d, lon/d, latentChannels] for this model's grid.
    public var latentShape: [Int] {
        let d = configuration.downsampling
        return [grid.latitudeCount / d, grid.longitudeCount / d, configuration.latentChannels]
    }

    /// Input values per latent value.
    public var compressionRatio: Double {
        configuration.compressionRatio(latitudes: grid.latitudeCount, longitudes: grid.longitudeCount)
    }

    /// Fails with a message naming `dataPath` when `other` differs from the training grid.
    public func checkGrid(_ other: Grid, dataPath: String) throws {
        guard other.latitudeCount == grid.latitudeCount, other.longitudeCount == grid.longitudeCount,
              other.matches(grid) else {
            throw ModelError.gridMismatch(
                "\(dataPath): grid \(other.latitudeCount)x\(other.longitudeCount) does not match the model's training grid "
                + "\(grid.latitudeCount)x\(grid.longitudeCount) (coordinates must agree); regrid the data or train a model on this grid")
        }
    }

    /// Tensors and metadata of the checkpoint (parameters plus normalisation).
    public func checkpointContents() throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func json<T: Encodable>(_ value: T) throws -> String { try CheckpointMetadata.json(value) }
        var tensors = model.namedTensors
        tensors["normalization.climatology"] = Tensor(shape: [12, grid.latitudeCount, grid.longitudeCount],
                                                      values: normalization.climatology)
        tensors["normalization.scale"] = Tensor(shape: [grid.latitudeCount, grid.longitudeCount], values: normalization.scale)
        let metadata = [
            "format": Self.format,
            "configuration": try json(configuration),
            "grid": try json(grid),
            "normalization.scaling": normalization.scaling.rawValue,
            "provenance": try json(provenance),
        ]
        return (tensors, metadata)
    }

    /// Writes the checkpoint (through a `.partial` file).
    public func save(to path: String) throws {
        let contents = try checkpointContents()
        try SafeTensors.write(contents.tensors, metadata: contents.metadata, to: URL(fileURLWithPath: path))
    }

    /// Reads a checkpoint written by `save`, with clear errors for other files.
    public static func load(_ path: String) throws -> TrainedVAE {
        let (tensors, metadata) = try SafeTensors.read(URL(fileURLWithPath: path))
        return try load(tensors: tensors, metadata: metadata, path: path)
    }

    /// Builds the model from checkpoint contents already read (`path` names them in errors).
    public static func load(tensors: [String: Tensor], metadata: [String: String], path: String) throws -> TrainedVAE {
        try CheckpointMetadata.requireFormat(format, kind: "VAE", in: metadata, path: path)
        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            try CheckpointMetadata.decode(type, key, in: metadata, path: path)
        }
        let configuration = try decode(VAEConfiguration.self, "configuration")
        let grid = try decode(Grid.self, "grid")
        let provenance = try decode([String: String].self, "provenance")
        guard let scaling = metadata["normalization.scaling"].flatMap(AnomalyNormalization.Scaling.init(rawValue:)),
              let climatology = tensors["normalization.climatology"], let scale = tensors["normalization.scale"] else {
            throw ModelError.checkpoint("\(path): normalisation (climatology, scale) is missing")
        }
        let normalization = try AnomalyNormalization(grid: grid, scaling: scaling, climatology: climatology.values,
                                                     scale: scale.values)
        var random = RandomStream(seed: 0)
        let model = VariationalAutoencoder(configuration: configuration, random: &random)
        try CheckpointMetadata.loadParameters(tensors, into: model.parameters, path: path)
        return TrainedVAE(model: model, normalization: normalization, provenance: provenance)
    }

    /// Latent means [n, lat/d, lon/d, C] of normalised anomaly fields [n, lat, lon], in batches.
    public func encode(normalizedFields fields: [Float], count: Int, batchSize: Int = 64) -> [Float] {
        let cells = grid.cellCount, latentCount = latentShape.reduce(1, *)
        var latents = [Float](repeating: 0, count: count * latentCount)
        GradientRecording.disabled {
            for start in stride(from: 0, to: count, by: batchSize) {
                let n = min(batchSize, count - start)
                let x = Tensor(shape: [n, grid.latitudeCount, grid.longitudeCount, 1],
                               values: Array(fields[(start * cells)..<((start + n) * cells)]))
                let mean = model.encode(Variable(x)).mean.value
                for i in 0..<mean.count { latents[start * latentCount + i] = mean[i] }
            }
        }
        return latents
    }

    /// Normalised anomaly fields [n, lat, lon] decoded from latents [n, lat/d, lon/d, C], in batches.
    public func decode(latents: [Float], count: Int, batchSize: Int = 64) -> [Float] {
        let cells = grid.cellCount, latentCount = latentShape.reduce(1, *)
        var fields = [Float](repeating: 0, count: count * cells)
        GradientRecording.disabled {
            for start in stride(from: 0, to: count, by: batchSize) {
                let n = min(batchSize, count - start)
                let z = Tensor(shape: [n] + latentShape, values: Array(latents[(start * latentCount)..<((start + n) * latentCount)]))
                let y = model.decode(Variable(z)).value
                for i in 0..<y.count { fields[start * cells + i] = y[i] }
            }
        }
        return fields
    }
}
