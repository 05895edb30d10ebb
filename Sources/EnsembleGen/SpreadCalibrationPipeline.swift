import Climate
import Foundation
import Models
import RandomStreams
import Tensor

/// `ensemblegen calibrate-spread`: generates members' latent residuals with a trained
/// diffusion model on its own conditioning series, compares their ensemble variance with
/// that of the training members' latents per latent dimension, and stores the factors that
/// equalise them (`SpreadCalibration`) in the model's checkpoint, which `generate` applies.
public enum SpreadCalibrationPipeline {
    public struct Options: Sendable {
        /// Model directory (from train-diffusion).
        public var model: String
        public var generator: GeneratorKind
        /// The data the model was trained on, and the training members to match.
        public var data: [String]
        public var variable: String?
        public var members: String
        /// Members generated for the comparison.
        public var generatedMembers: Int
        public var sampler: LatentDiffusion.Sampler
        public var seed: UInt64

        public init(model: String, generator: GeneratorKind, data: [String], variable: String? = nil, members: String,
                    generatedMembers: Int = 32, sampler: LatentDiffusion.Sampler = .ddim(), seed: UInt64 = 1) {
            self.model = model; self.generator = generator; self.data = data; self.variable = variable
            self.members = members; self.generatedMembers = generatedMembers; self.sampler = sampler; self.seed = seed
        }
    }

    public struct Result: Sendable {
        public var path: String
        public var calibration: SpreadCalibration
        /// Ensemble variance of the generated over the training members' latents, summed over
        /// latent dimensions, before calibration.
        public var varianceRatio: Double
        public var seconds: Double
        public var text: String {
            String(format: "calibrated %@ in %.0f s: generated/training latent ensemble variance %.3f before; %@",
                   path, seconds, varianceRatio, calibration.summary)
        }
    }

    /// `progress(monthsSampled, months)` over all generated members.
    public static func run(_ o: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        let started = Date()
        func file(_ name: String) throws -> String {
            let path = (o.model as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else {
                throw CFError(file: o.model, "model directory has no \(name): train it with `ensemblegen train-diffusion --generator \(o.generator.rawValue) --output \(o.model)`")
            }
            return path
        }
        guard o.generatedMembers >= 2 else {
            throw CFError(file: o.model, "--generated-members \(o.generatedMembers): at least 2 are needed for an ensemble variance")
        }
        let vaePath = try file("vae.safetensors"), diffusionPath = try file(LatentDiffusion.fileName(o.generator))
        let conditioning = try ConditioningSeries.load(try file(ConditioningSeries.fileName))
        let diffusion = try LatentDiffusion.load(diffusionPath).model
        let (vae, reader, source, members) = try VAEData.open(vae: vaePath, data: o.data, variable: o.variable, members: o.members)
        defer { try? reader.close() }
        guard members.count >= 2 else {
            throw CFError(file: source, "--members \(o.members) selects \(members.count) member; the training members' spread needs at least 2")
        }
        guard reader.time.values == conditioning.time.values else {
            throw CFError(file: source, "the data cover \(reader.time.years.first ?? 0)–\(reader.time.years.last ?? 0) (\(reader.timeCount) time steps) but the model's conditioning series \(conditioning.time.years.first ?? 0)–\(conditioning.time.years.last ?? 0) (\(conditioning.time.count)); give the data the model was trained on")
        }
        let d = conditioning.dimension, months = reader.time.monthsOfYear, T = reader.timeCount
        let latents = try LatentCache.latents(vae: vae, vaePath: vaePath, reader: reader, source: source, members: members,
                                              cachePath: (o.model as NSString).appendingPathComponent("latents.safetensors"))
        let generated = sampleResiduals(diffusion, conditioning: conditioning.latents, monthsOfYear: months, count: o.generatedMembers,
                                        seed: o.seed, sampler: o.sampler) { progress?($0, o.generatedMembers * T) }
        let reference = members.map { latents[$0]! }
        let scale = SpreadCalibration.factors(generated: generated, reference: reference, dimension: d)
        let g = SpreadCalibration.ensembleVariance(generated, dimension: d), r = SpreadCalibration.ensembleVariance(reference, dimension: d)
        let calibration = SpreadCalibration(scale: scale, samplerSteps: o.sampler.steps, samplerEta: o.sampler.eta,
                                            generatedMembers: o.generatedMembers, referenceMembers: members.count, seed: o.seed)
        try LatentDiffusion.store(calibration, inCheckpoint: diffusionPath)
        return Result(path: diffusionPath, calibration: calibration, varianceRatio: g.reduce(0, +) / r.reduce(0, +),
                      seconds: Date().timeIntervalSince(started))
    }

    /// Uncalibrated residual series [T, D] in latent units of `count` members sampled on the
    /// conditioning latents z_c [T, D], in groups of `LatentDiffusion.groupSize` shared out
    /// among the cores. Their noise comes from a substream of `seed` of its own, so they are
    /// not the members `generate --seed` writes.
    static func sampleResiduals(_ diffusion: LatentDiffusion, conditioning zc: [Float], monthsOfYear months: [Int], count: Int,
                                seed: UInt64, sampler: LatentDiffusion.Sampler,
                                progress: @escaping (Int) -> Void) -> [[Float]] {
        let d = diffusion.configuration.latentDimension
        let data = LatentSequences(residuals: [], conditioning: diffusion.statistics.normalizeConditioning(zc, monthsOfYear: months),
                                   monthsOfYear: months, dimension: d)
        var random = RandomStream(seed: seed).substream("spread-calibration")
        let streamSeed = random.next()
        let groups = stride(from: 0, to: count, by: LatentDiffusion.groupSize).map { $0..<min($0 + LatentDiffusion.groupSize, count) }
        let lock = NSLock()
        var series = [[Float]](repeating: [], count: count)
        var monthsDone = [Int](repeating: 0, count: groups.count)
        ComputeThreads.concurrently(jobs: groups.count) { worker, workers in
            for index in stride(from: worker, to: groups.count, by: workers) {
                let group = groups[index]
                let sampled = diffusion.sample(conditioning: data, members: Array(group), seed: streamSeed, sampler: sampler) { months in
                    lock.lock()
                    monthsDone[index] = months
                    progress(zip(monthsDone, groups).reduce(0) { $0 + $1.0 * $1.1.count })
                    lock.unlock()
                }
                let residuals = sampled.map { diffusion.statistics.denormalizeResiduals($0, monthsOfYear: months) }
                lock.lock()
                for (k, r) in zip(group, residuals) { series[k] = r }
                lock.unlock()
            }
        }
        return series
    }
}
