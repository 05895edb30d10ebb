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
    /// Whether the area-weighted global mean of each normalised anomaly field is taken out
    /// before the network and carried exactly as one more latent value (the last), added
    /// back after decoding. The network then sees the spatial pattern only, so a field
    /// several kelvin warmer than any in training (a future scenario) is the same pattern
    /// plus a number rather than an input the network never saw: with the mean inside the
    /// fields, a VAE trained on 1850–2005 reconstructed SSP5-8.5 fields of 2080–2100 with an
    /// RMSE of 3.1 K, 2.9 K too cold (Docs/models.md).
    public let separatesGlobalMean: Bool
    /// Free-form provenance (data file, members, epochs, seed, durations, RMSE).
    public var provenance: [String: String]

    public static let format = "ensemblegen-vae/1"

    public init(model: VariationalAutoencoder, normalization: AnomalyNormalization, separatesGlobalMean: Bool = false,
                provenance: [String: String] = [:]) {
        self.model = model
        self.normalization = normalization
        self.separatesGlobalMean = separatesGlobalMean
        self.provenance = provenance
        padding = GridPadding(grid: normalization.grid, multiple: model.configuration.downsampling)
    }

    public var grid: Grid { normalization.grid }
    public var configuration: VAEConfiguration { model.configuration }

    /// How the training grid is extended to the downsampling multiple d for the network
    /// (identity when its sizes are multiples of d).
    public let padding: GridPadding

    /// Latent grid [⌈lat/d⌉, ⌈lon/d⌉, latentChannels] for this model's grid.
    public var latentShape: [Int] {
        let d = configuration.downsampling, p = padding
        return [p.paddedLatitudes / d, p.paddedLongitudes / d, configuration.latentChannels]
    }

    /// Latent values per field, D: the latent grid's values, plus the global mean when separated.
    public var latentDimension: Int { latentShape.reduce(1, *) + (separatesGlobalMean ? 1 : 0) }

    /// Grid cells per value of the latent grid (the separated global mean not counted).
    public var compressionRatio: Double {
        configuration.compressionRatio(latitudes: grid.latitudeCount, longitudes: grid.longitudeCount)
    }

    /// Weights [paddedLat, paddedLon] of the training loss: area weights with mean 1 over the
    /// grid's cells, zero on the padded cells.
    public var trainingWeights: Tensor {
        let p = padding, cells = Double(grid.cellCount)
        return Tensor(shape: [p.paddedLatitudes, p.paddedLongitudes],
                      values: p.maskedWeights(grid.areaWeights).map { Float($0 * cells) })
    }

    /// Fails with a message naming `dataPath` when `other` differs from the training grid.
    public func checkGrid(_ other: Grid, dataPath: String) throws {
        guard other.latitudeCount == grid.latitudeCount, other.longitudeCount == grid.longitudeCount,
              other.matches(grid) else {
            // Same size, other coordinates: name the first that differs.
            var detail = "coordinates must agree"
            if other.latitudeCount == grid.latitudeCount, other.longitudeCount == grid.longitudeCount {
                if let j = grid.latitudes.indices.first(where: { abs(grid.latitudes[$0] - other.latitudes[$0]) > 1e-4 }) {
                    detail = String(format: "latitude %d is %g° in the data, %g° in the model", j, other.latitudes[j], grid.latitudes[j])
                } else if let i = grid.longitudes.indices.first(where: { abs(grid.longitudes[$0] - other.longitudes[$0]) > 1e-4 }) {
                    detail = String(format: "longitude %d is %g° in the data, %g° in the model", i, other.longitudes[i], grid.longitudes[i])
                }
            }
            throw ModelError.gridMismatch(
                "\(dataPath): grid \(other.latitudeCount)x\(other.longitudeCount) does not match the model's training grid "
                + "\(grid.latitudeCount)x\(grid.longitudeCount) (\(detail)); regrid the data to the model's grid (e.g. cdo remapbil) or train a model on this grid")
        }
    }

    /// The sampling frequency of the training data (monthly for models that predate its record).
    public var trainingFrequency: TimeFrequency {
        provenance["time_frequency"].flatMap(TimeFrequency.init(rawValue:)) ?? .monthly
    }

    /// Fails with a message naming `dataPath` when the data's grid or sampling frequency
    /// differs from the training data's: the climatology and the latents mean nothing there.
    public func checkData(_ data: EnsembleReader, dataPath: String) throws {
        try checkGrid(data.grid, dataPath: dataPath)
        let found = data.time.frequency
        guard found == trainingFrequency else {
            throw ModelError.gridMismatch(
                "\(dataPath): \(found.rawValue) data, but the model was trained on \(trainingFrequency.rawValue) data; use \(trainingFrequency.rawValue) data or train a model on \(found.rawValue) data")
        }
    }

    /// Tensors and metadata of the checkpoint (parameters plus normalisation).
    public func checkpointContents() throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func json<T: Encodable>(_ value: T) throws -> String { try CheckpointMetadata.json(value) }
        var tensors = model.namedTensors
        tensors["normalization.climatology"] = Tensor(shape: [12, grid.latitudeCount, grid.longitudeCount],
                                                      values: normalization.climatology)
        tensors["normalization.scale"] = Tensor(shape: [grid.latitudeCount, grid.longitudeCount], values: normalization.scale)
        var metadata = [
            "format": Self.format,
            "configuration": try json(configuration),
            "grid": try json(grid),
            "normalization.scaling": normalization.scaling.rawValue,
            "provenance": try json(provenance),
        ]
        if separatesGlobalMean { metadata["normalization.global_mean"] = "separate" }
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
        let c = configuration
        guard (1...8).contains(c.channels.count), c.channels.allSatisfy({ (1...4096).contains($0) }), (1...256).contains(c.latentChannels),
              (1...64).contains(c.groups), c.channels.allSatisfy({ $0 % c.groups == 0 }), c.klWeight.isFinite else {
            throw ModelError.checkpoint("\(path): the VAE configuration \(c) is out of range; the file is damaged or was edited")
        }
        let grid = try decode(Grid.self, "grid")
        let provenance = try decode([String: String].self, "provenance")
        guard let scaling = metadata["normalization.scaling"].flatMap(AnomalyNormalization.Scaling.init(rawValue:)),
              let climatology = tensors["normalization.climatology"], let scale = tensors["normalization.scale"] else {
            throw ModelError.checkpoint("\(path): normalisation (climatology, scale) is missing")
        }
        let normalization = try AnomalyNormalization(grid: grid, scaling: scaling, climatology: climatology.values,
                                                     scale: scale.values)
        let globalMean = metadata["normalization.global_mean"]
        guard globalMean == nil || globalMean == "separate" else {
            throw ModelError.checkpoint("\(path): unknown global-mean treatment '\(globalMean!)'; the file is damaged or from a newer version")
        }
        var random = RandomStream(seed: 0)
        let model = VariationalAutoencoder(configuration: configuration, random: &random)
        try CheckpointMetadata.loadParameters(tensors, into: model.parameters, path: path)
        return TrainedVAE(model: model, normalization: normalization, separatesGlobalMean: globalMean != nil, provenance: provenance)
    }

    /// Fields per network call in `encode` and `decode`. Small batches keep the activations
    /// in cache and avoid page-fault churn from large buffers: decoding with batches of 4
    /// instead of 64 took half the time and almost no system time (Docs/engine.md).
    public static let inferenceBatch = 4

    /// Latents [n, D] of normalised anomaly fields [n, lat, lon]: the encoder's means on the
    /// latent grid [lat/d, lon/d, C], then the field's global mean when separated; batches
    /// spread over the cores.
    public func encode(normalizedFields fields: [Float], count: Int) -> [Float] {
        let grid = latentShape.reduce(1, *)
        let (patterns, means) = separated(fields, count: count)
        let p = padding
        let z = inBatches(p.pad(patterns, count: count), count: count, inputShape: [p.paddedLatitudes, p.paddedLongitudes, 1],
                          outputCount: grid) { model.encode($0).mean }
        guard let means else { return z }
        var latents = [Float](repeating: 0, count: count * (grid + 1))
        for n in 0..<count {
            for j in 0..<grid { latents[n * (grid + 1) + j] = z[n * grid + j] }
            latents[n * (grid + 1) + grid] = means[n]
        }
        return latents
    }

    /// Normalised anomaly fields [n, lat, lon] decoded from latents [n, D] (`encode`),
    /// batches spread over the cores.
    public func decode(latents: [Float], count: Int) -> [Float] {
        let p = padding, paddedCells = p.paddedLatitudes * p.paddedLongitudes
        guard separatesGlobalMean else {
            return p.crop(inBatches(latents, count: count, inputShape: latentShape, outputCount: paddedCells) { model.decode($0) },
                          count: count)
        }
        let d = latentDimension, cells = grid.cellCount
        let spatial = (0..<count).flatMap { latents[($0 * d)..<(($0 + 1) * d - 1)] }
        var fields = p.crop(inBatches(spatial, count: count, inputShape: latentShape, outputCount: paddedCells) { model.decode($0) },
                            count: count)
        for n in 0..<count {
            let mean = latents[(n + 1) * d - 1]
            for c in 0..<cells { fields[n * cells + c] += mean }
        }
        return fields
    }

    /// What the network is trained on and encodes: the normalised fields [n, lat, lon], less
    /// each field's global mean when it is separated, on the padded grid [n, paddedLat, paddedLon].
    public func networkInput(_ fields: [Float], count: Int) -> [Float] {
        padding.pad(separated(fields, count: count).patterns, count: count)
    }

    /// Fields [n, lat, lon] less their area-weighted means, and the means [n], when the
    /// global mean is separated; the fields unchanged and nil otherwise.
    private func separated(_ fields: [Float], count: Int) -> (patterns: [Float], means: [Float]?) {
        guard separatesGlobalMean else { return (fields, nil) }
        let weights = grid.areaWeights, cells = grid.cellCount, total = weights.reduce(0, +)
        var patterns = fields, means = [Float](repeating: 0, count: count)
        for n in 0..<count {
            var sum = 0.0
            for c in 0..<cells { sum += weights[c] * Double(fields[n * cells + c]) }
            means[n] = Float(sum / total)
            for c in 0..<cells { patterns[n * cells + c] -= means[n] }
        }
        return (patterns, means)
    }

    /// Applies `network` to `count` items of `inputShape` in batches of `inferenceBatch`,
    /// one batch per core at a time; each item gives `outputCount` values.
    private func inBatches(_ input: [Float], count: Int, inputShape: [Int], outputCount: Int,
                           _ network: (Variable) -> Variable) -> [Float] {
        let inputCount = inputShape.reduce(1, *), batch = Self.inferenceBatch
        let batches = (count + batch - 1) / batch
        var output = [Float](repeating: 0, count: count * outputCount)
        output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { values in
                ComputeThreads.concurrently(jobs: batches) { worker, workers in
                    for index in stride(from: worker, to: batches, by: workers) {
                        let start = index * batch, n = min(batch, count - start)
                        let x = Tensor(shape: [n] + inputShape, values: Array(values[(start * inputCount)..<((start + n) * inputCount)]))
                        let y = network(Variable(x)).value
                        (out.baseAddress! + start * outputCount).update(from: y.pointer, count: n * outputCount)
                    }
                }
            }
        }
        return output
    }
}
