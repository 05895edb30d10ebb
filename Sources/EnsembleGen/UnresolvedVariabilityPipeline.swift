import Climate
import Foundation
import Models
import OutputFiles

/// `ensemblegen fit-unresolved`: measures what the VAE does not reproduce (original −
/// decode(encode(original)) over training members) and stores it in the model directory as
/// `unresolved-variability.safetensors`, which `generate` adds back as noise.
/// `train-diffusion` runs the same fit on its training members.
public enum UnresolvedVariabilityPipeline {
    public struct Options: Sendable {
        /// Model directory (with vae.safetensors).
        public var model: String
        public var data: [String]
        public var variable: String?
        public var members: String?

        public init(model: String, data: [String], variable: String? = nil, members: String? = nil) {
            self.model = model; self.data = data; self.variable = variable; self.members = members
        }
    }

    public struct Result: Sendable {
        public var path: String
        public var statistics: UnresolvedVariability
        public var text: String {
            let s = statistics, cells = s.grid.cellCount, weights = s.grid.areaWeights
            let mean = (0..<12).map { month in
                (0..<cells).reduce(0.0) { $0 + weights[$1] * Double(s.standardDeviation[month * cells + $1] * s.standardDeviation[month * cells + $1]) }
            }.reduce(0, +) / (12 * weights.reduce(0, +))
            let longitude = s.longitudeCorrelation, month = s.monthCorrelation
            return String(format: "wrote %@: standard deviation %.3f K (area-weighted RMS), correlation between longitude neighbours %.2f–%.2f, between months %.2f–%.2f",
                          path, mean.squareRoot(), longitude.min() ?? 0, longitude.max() ?? 0, month.min() ?? 0, month.max() ?? 0)
        }
    }

    public static func run(_ o: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        let model = ModelDirectory(o.model), started = Date()
        let vaePath = try model.require(ModelDirectory.vaeFileName)
        let path = model.file(UnresolvedVariability.fileName)
        try OutputFile.checkDestination(path, inputs: o.data)
        let (vae, reader, source, members) = try VAEData.open(model: model, data: o.data, variable: o.variable, members: o.members)
        defer { try? reader.close() }
        let latents = try LatentCache.latents(vae: vae, vaePath: vaePath, reader: reader, source: source, members: members,
                                              cachePath: model.file(ModelDirectory.latentCacheFileName))
        let statistics = try fit(vae: vae, vaeDigest: try model.digest(ModelDirectory.vaeFileName), reader: reader, source: source,
                                 members: members, latents: latents, progress: progress)
        try statistics.save(to: path)
        try TrainingRecord.update(directory: o.model, step: "unresolved_variability", data: o.data, reader: reader, started: started)
        return Result(path: path, statistics: statistics)
    }

    /// The statistics of original − decode(latents) over `members` (latents: encoder means
    /// [T, lat/d, lon/d, C] by member).
    static func fit(vae: TrainedVAE, vaePath: String, reader: EnsembleReader, source: String, members: [Int],
                    latents: [Int: [Float]], progress: ((Int, Int) -> Void)? = nil) throws -> UnresolvedVariability {
        try fit(vae: vae, vaeDigest: try FileDigest.hex(path: vaePath), reader: reader, source: source, members: members,
                latents: latents, progress: progress)
    }

    /// The same with the digest of the VAE's file (for the provenance) already known.
    static func fit(vae: TrainedVAE, vaeDigest: String, reader: EnsembleReader, source: String, members: [Int],
                    latents: [Int: [Float]], progress: ((Int, Int) -> Void)? = nil) throws -> UnresolvedVariability {
        let months = reader.time.monthsOfYear, T = reader.timeCount
        guard members.count >= 2 || Set(months).count < T else {
            throw CFError(file: source, "too little data to measure the VAE's unresolved variability: members \(MemberSelection.describe(members)) have no two fields of the same calendar month")
        }
        var estimator = UnresolvedVariability.Estimator(grid: vae.grid)
        for (i, m) in members.enumerated() {
            guard let z = latents[m] else { preconditionFailure("no latents for member \(m)") }
            let reconstruction = vae.normalization.denormalize(vae.decode(latents: z, count: T), monthsOfYear: months)
            estimator.add(original: try reader.readMember(m), reconstruction: reconstruction, monthsOfYear: months)
            progress?(i + 1, members.count)
        }
        return try estimator.estimate(provenance: ["data": source, "members": MemberSelection.describe(members),
                                                   "vae_hash": vaeDigest])
    }
}
