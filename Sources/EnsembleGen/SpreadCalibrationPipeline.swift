import Climate
import Foundation
import Models
import OutputFiles
import RandomStreams
import Tensor

/// `ensemblegen calibrate-spread`: generates members with a trained diffusion model on its
/// own conditioning series, compares their grid-point ensemble spread (decoded, with the
/// unresolved variability) with the training members', and stores the per-latent-location
/// factors that equalise them (`SpreadCalibration`) in the model's checkpoint, which
/// `generate` applies.
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
        /// Updates of the factors (each decodes the generated members once more).
        public var iterations: Int
        /// Spread compared every `monthStride`-th month (coprime with 12, so every calendar month is seen).
        public var monthStride: Int

        public init(model: String, generator: GeneratorKind, data: [String], variable: String? = nil, members: String,
                    generatedMembers: Int = 32, sampler: LatentDiffusion.Sampler = .dpmSolver(), seed: UInt64 = 1,
                    iterations: Int = 2, monthStride: Int = 5) {
            self.model = model; self.generator = generator; self.data = data; self.variable = variable
            self.members = members; self.generatedMembers = generatedMembers; self.sampler = sampler; self.seed = seed
            self.iterations = iterations; self.monthStride = monthStride
        }
    }

    public struct Result: Sendable {
        public var path: String
        public var calibration: SpreadCalibration
        public var seconds: Double
        public var text: String { String(format: "calibrated %@ in %.0f s: %@", path, seconds, calibration.summary) }
    }

    /// `progress(done, total)`: member-months sampled, then decoded.
    public static func run(_ o: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        let started = Date()
        let model = ModelDirectory(o.model)
        guard o.generatedMembers >= 2 else {
            throw EnsembleGenError("\(o.model): \(o.generatedMembers) generated members: at least 2 are needed for an ensemble variance")
        }
        guard o.iterations >= 1, o.monthStride >= 1 else {
            throw EnsembleGenError("\(o.model): \(o.iterations) iterations and a month stride of \(o.monthStride): both must be at least 1")
        }
        _ = try model.require(ModelDirectory.vaeFileName)
        let diffusionPath = try model.require(LatentDiffusion.fileName(o.generator))
        try OutputFile.checkDestination(diffusionPath, inputs: o.data)
        let conditioning = try model.conditioning()
        let diffusion = try model.diffusion(o.generator).model
        let (vae, reader, source, members) = try VAEData.open(model: model, data: o.data, variable: o.variable, members: o.members)
        defer { try? reader.close() }
        guard members.count >= 2 else {
            throw CFError(file: source, "the training members' spread needs at least 2 members, and '\(o.members)' selects \(members.count)")
        }
        guard reader.time.values == conditioning.time.values else {
            throw CFError(file: source, "the data cover \(reader.time.years.first ?? 0)–\(reader.time.years.last ?? 0) (\(reader.timeCount) time steps) but the model's conditioning series \(conditioning.time.years.first ?? 0)–\(conditioning.time.years.last ?? 0) (\(conditioning.time.count)); give the data the model was trained on")
        }
        let unresolvedDeviation = try model.unresolvedVariability()?.standardDeviation
        let d = conditioning.dimension, months = reader.time.monthsOfYear, T = reader.timeCount
        let used = Array(stride(from: 0, to: T, by: o.monthStride)), cells = vae.grid.cellCount
        let usedMonths = used.map { months[$0] }
        let total = o.generatedMembers * (T + (o.iterations + 1) * used.count)
        func subset(_ series: [Float], width: Int) -> [Float] { used.flatMap { series[($0 * width)..<(($0 + 1) * width)] } }
        // Only the compared months are decoded, at every update.
        let generated = sampleResiduals(diffusion, conditioning: conditioning.latents, monthsOfYear: months, count: o.generatedMembers,
                                        seed: o.seed, sampler: o.sampler) { progress?($0, total) }.map { subset($0, width: d) }
        let training = SpreadCalibration.ensembleVariance(try members.map { subset(try reader.readMember($0), width: cells) },
                                                          dimension: cells)
        // The unresolved variability generate adds: its variance per cell over the months compared.
        var unresolved = [Double](repeating: 0, count: cells)
        if let sd = unresolvedDeviation {
            for month in usedMonths {
                for c in 0..<cells { unresolved[c] += Double(sd[(month - 1) * cells + c] * sd[(month - 1) * cells + c]) / Double(used.count) }
            }
        }
        let target = zip(training, unresolved).map { $0 - $1 }, weights = vae.grid.areaWeights
        let zc = subset(conditioning.latents, width: d)
        var scale = [Float](repeating: 1, count: d), ratios: [Double] = []
        for iteration in 0...o.iterations {
            let decoded = generated.map { r in
                vae.decode(latents: zip(zc, SpreadCalibration.scaled(r, by: scale)).map { $0 + $1 }, count: used.count)
            }
            // Decodings are normalised anomalies: variance in K² through the scale of each cell.
            let variance = zip(SpreadCalibration.ensembleVariance(decoded, dimension: cells), vae.normalization.scale)
                .map { $0 * Double($1 * $1) }
            let ratio = zip(weights, zip(variance, unresolved)).reduce(0) { $0 + $1.0 * ($1.1.0 + $1.1.1) }
                / zip(weights, training).reduce(0) { $0 + $1.0 * $1.1 }
            ratios.append(ratio.squareRoot())
            progress?(o.generatedMembers * (T + (iteration + 1) * used.count), total)
            guard iteration < o.iterations else { break }
            // On the network's padded grid, where the latent grid tiles the cells; padded cells weigh nothing.
            let p = vae.padding
            scale = SpreadCalibration.updatedFactors(scale, latentShape: vae.latentShape, latitudes: p.paddedLatitudes,
                                                     longitudes: p.paddedLongitudes, weights: p.maskedWeights(weights),
                                                     generated: p.pad(variance, count: 1), target: p.pad(target, count: 1))
        }
        let calibration = SpreadCalibration(scale: scale, samplerSteps: o.sampler.steps, samplerEta: o.sampler.eta, samplerMethod: o.sampler.method,
                                            generatedMembers: o.generatedMembers, referenceMembers: members.count, seed: o.seed,
                                            spreadRatios: ratios)
        try model.store(calibration, generator: o.generator)
        try TrainingRecord.update(directory: o.model, step: "spread_calibration_\(o.generator.rawValue)", data: o.data, reader: reader, started: started)
        return Result(path: diffusionPath, calibration: calibration, seconds: Date().timeIntervalSince(started))
    }

    /// Uncalibrated residual series [T, D] in latent units of `count` members sampled on the
    /// conditioning latents z_c [T, D], in groups (`GenerationScheduler.samplingGroups`) shared out
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
        let groups = GenerationScheduler.samplingGroups(memberCount: count, groupSize: LatentDiffusion.groupSize,
                                                        workers: ComputeThreads.count)
        let lock = NSLock()
        var series = [[Float]](repeating: [], count: count)
        var monthsDone = [Int](repeating: 0, count: groups.count)
        let weights = TransposedWeights()  // shared by the groups: transposed once per run
        ComputeThreads.concurrently(jobs: groups.count) { worker, workers in
            for index in stride(from: worker, to: groups.count, by: workers) {
                let group = groups[index]
                let sampled = diffusion.sample(conditioning: data, members: Array(group), seed: streamSeed, sampler: sampler,
                                               weights: weights) { months in
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
