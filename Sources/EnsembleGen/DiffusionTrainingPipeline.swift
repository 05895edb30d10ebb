import Climate
import Foundation
import Models
import OutputFiles
import RandomStreams
import Tensor

/// `ensemblegen train-diffusion`: encodes the training members with the VAE (cached in
/// the model directory), forms residuals against the conditioning member and trains the
/// chosen sequence generator with the v-prediction loss, AdamW and EMA weights.
/// The model directory ends up self-contained: vae.safetensors, conditioning.safetensors,
/// unresolved-variability.safetensors (what the VAE does not reproduce, measured on the
/// training members), diffusion-<generator>.safetensors.
public enum DiffusionTrainingPipeline {
    public struct Options: Sendable {
        public var vae: String
        public var data: [String]
        public var variable: String?
        public var members: String?
        public var validationMembers: String?
        /// The one conditioning member (used when `conditioningMembers` is nil): every
        /// other training member is a target, modelled relative to it.
        public var conditioningMember: Int
        /// Many conditioning members (a member list such as `0-29`, all among the training
        /// members): pairs (c, k), k ≠ c, of a conditioning member and a training member, so
        /// the networks learn the residual as a function of any conditioning state.
        public var conditioningMembers: String?
        public var configuration: (GeneratorKind, width: Int?, layers: Int?, contextMonths: Int?, blockMonths: Int?,
                                   neighbourMonths: Int?)
        public var epochs: Int
        public var stepsPerEpoch: Int
        public var batchSize: Int
        /// Parts each mini-batch is split into, back-propagated at once (`BatchGradients`).
        public var batchParts: Int
        public var learningRate: Float
        public var emaDecay: Float
        /// Divide the residuals per calendar month and latent dimension by their seasonal scale
        /// (`LatentStatistics.residualSeasonalScale`) before anything else.
        public var seasonalScaling: Bool
        /// Order p of the AR filter whose innovations the model learns instead of the residuals (0: the residuals).
        public var innovationOrder: Int
        /// Whiten the modelled residuals (or innovations) across latent dimensions.
        public var whitened: Bool
        /// Eigenvalue floor of the whitening, relative to the mean eigenvalue (`Whitening`).
        public var whiteningFloor: Float
        /// What the network is given of the conditioning series (`ConditioningForm`).
        public var conditioningForm: ConditioningForm
        /// How the model file stores the weight matrices (the training state keeps Float32).
        public var weightPrecision: WeightPrecision
        public var seed: UInt64
        public var output: String
        public var resume: Bool
        /// Testing aid: stop after this many steps in this run, as if killed.
        public var stopAfterSteps: Int?

        public init(vae: String, data: [String], variable: String? = nil, members: String? = nil,
                    validationMembers: String? = nil, conditioningMember: Int = 0, conditioningMembers: String? = nil,
                    generator: GeneratorKind, width: Int? = nil, layers: Int? = nil, contextMonths: Int? = nil,
                    blockMonths: Int? = nil, neighbourMonths: Int? = nil, epochs: Int = 10, stepsPerEpoch: Int = 500, batchSize: Int = 64,
                    batchParts: Int = BatchGradients.defaultParts, learningRate: Float = 1e-3, emaDecay: Float = 0.999,
                    seasonalScaling: Bool = true, innovationOrder: Int = 0, whitened: Bool = false, whiteningFloor: Float = Whitening.defaultFloor,
                    conditioningForm: ConditioningForm = .level, weightPrecision: WeightPrecision = .float32,
                    seed: UInt64 = 1, output: String, resume: Bool = false, stopAfterSteps: Int? = nil) {
            self.vae = vae; self.data = data; self.variable = variable; self.members = members
            self.validationMembers = validationMembers; self.conditioningMember = conditioningMember
            self.conditioningMembers = conditioningMembers
            configuration = (generator, width, layers, contextMonths, blockMonths, neighbourMonths)
            self.epochs = epochs; self.stepsPerEpoch = stepsPerEpoch; self.batchSize = batchSize; self.batchParts = batchParts
            self.learningRate = learningRate; self.emaDecay = emaDecay
            self.seasonalScaling = seasonalScaling; self.innovationOrder = innovationOrder
            self.whitened = whitened; self.whiteningFloor = whiteningFloor
            self.conditioningForm = conditioningForm; self.weightPrecision = weightPrecision
            self.seed = seed; self.output = output
            self.resume = resume; self.stopAfterSteps = stopAfterSteps
        }
    }

    public struct EpochReport: Sendable {
        public var epoch: Int
        public var trainingLoss: Double
        public var validationLoss: Double?
        public var stepsPerSecond: Double
        public var text: String {
            var line = String(format: "epoch %d  loss %.4f", epoch + 1, trainingLoss)
            if let v = validationLoss { line += String(format: "  validation loss %.4f", v) }
            return line + String(format: "  %.1f steps/s", stepsPerSecond)
        }
    }

    public struct Result: Sendable {
        public var modelPath: String
        public var epochs: [EpochReport]
        public var completed: Bool
        public var seconds: Double
        public var text: String {
            completed ? String(format: "wrote %@ in %.0f s", modelPath, seconds)
                : "stopped early; resume with --resume (state in \(modelPath).training-state)"
        }
    }

    public static func run(_ o: Options, progress: ((Int, Int, Int, Double) -> Void)? = nil,
                           epochEnded: ((EpochReport) -> Void)? = nil) throws -> Result {
        let started = Date()
        // Data and options are checked before the model directory is created; until the first
        // checkpoint, a failure removes what this run created in it.
        let directory = try OutputDirectory(path: o.output, inputs: o.data)
        let vae = try TrainedVAE.load(o.vae)
        let reader = try EnsembleReader(paths: o.data, variable: o.variable, requirements: .models)
        defer { try? reader.close() }
        let source = o.data.joined(separator: ", ")
        try vae.checkData(reader, dataPath: source)
        let split = try MemberSelection.split(training: o.members, validation: o.validationMembers, count: reader.memberCount, file: source)
        let validation = split.validation
        let plan = try TrainingPairs(conditioningMember: o.conditioningMember, conditioningMembers: o.conditioningMembers,
                                     training: split.training, validation: validation, memberCount: reader.memberCount, file: source)
        let training = plan.targets
        guard o.whiteningFloor > 0, o.whiteningFloor.isFinite else {
            throw EnsembleGenError("whitening floor \(o.whiteningFloor): it must be a positive fraction of the mean eigenvalue, e.g. 0.001 or 1")
        }
        guard o.innovationOrder >= 0, o.innovationOrder < reader.timeCount / 2 else {
            throw CFError(file: source, "an innovation filter of order \(o.innovationOrder) needs a series of more than twice as many time steps; this one has \(reader.timeCount)")
        }
        defer { directory.rollback() }
        try directory.create()
        let vaePath = (o.output as NSString).appendingPathComponent("vae.safetensors")
        if !OutputFile.sameFile(o.vae, vaePath) {
            try OutputFile.write(try Data(contentsOf: URL(fileURLWithPath: o.vae)), to: directory.file("vae.safetensors"))
        }

        // Latents of every member involved, cached in the model directory under the digests.
        let vaeDigest = try FileDigest.hex(path: vaePath), dataDigests = try reader.paths.map { try FileDigest.hex(path: $0) }
        let latents = try LatentCache.latents(vae: vae, vaePath: vaePath, reader: reader, source: source,
                                              members: plan.conditioning + training + validation,
                                              cachePath: directory.file("latents.safetensors"), digests: [vaeDigest] + dataDigests)
        let unresolvedPath = directory.file(UnresolvedVariability.fileName)
        if !o.resume || !FileManager.default.fileExists(atPath: unresolvedPath) {
            try UnresolvedVariabilityPipeline.fit(vae: vae, vaePath: vaePath, reader: reader, source: source, members: training,
                                                  latents: latents).save(to: unresolvedPath)
        }
        let d = vae.latentDimension, T = reader.timeCount, months = reader.time.monthsOfYear
        // The model's own conditioning series (generate's default): the first conditioning member.
        try ConditioningSeries(latents: latents[plan.conditioning[0]]!, dimension: d, time: reader.time,
                               member: reader.members[plan.conditioning[0]], source: source)
            .save(to: directory.file(ConditioningSeries.fileName))

        let modelPath = directory.file(LatentDiffusion.fileName(o.configuration.0))
        let statePath = TrainingState.path(for: modelPath)
        let (kind, width, layers, context, block, neighbours) = o.configuration
        let configuration = DiffusionConfiguration(generator: kind, latentDimension: d, width: width, layers: layers,
                                                   contextMonths: context, blockMonths: block,
                                                   neighbourMonths: neighbours, conditioningForms: o.conditioningForm.count)
        guard T > configuration.contextMonths + configuration.blockMonths else {
            throw CFError(file: source, "\(T) time steps are too few for the \(kind.rawValue) generator's windows of \(configuration.contextMonths) context and \(configuration.blockMonths) new steps; use a longer series or smaller --context-months/--block-months")
        }
        let fingerprint = RunFingerprint(
            data: o.data, dataDigests: dataDigests, trainingMembers: training, seed: o.seed,
            schedule: .init(epochs: o.epochs, stepsPerEpoch: o.stepsPerEpoch, batchSize: o.batchSize, batchParts: o.batchParts,
                            learningRate: o.learningRate),
            diffusion: .init(vaeDigest: vaeDigest, conditioningMember: plan.conditioning[0],
                             conditioningMembers: plan.isSingle ? nil : plan.conditioning, architecture: configuration,
                             emaDecay: o.emaDecay, seasonalScaling: o.seasonalScaling, innovationOrder: o.innovationOrder,
                             whitened: o.whitened, whiteningFloor: o.whiteningFloor, conditioningForm: o.conditioningForm))
        let (diffusion, run) = try TrainingRun.begin(
            resume: o.resume, statePath: statePath, fingerprint: fingerprint, learningRate: o.learningRate, emaDecay: o.emaDecay,
            parameters: { (diffusion: LatentDiffusion) in diffusion.generator.parameters },
            fresh: {
                var random = RandomStream(seed: o.seed).substream("diffusion-initialisation")
                return LatentDiffusion(generator: makeSequenceGenerator(configuration, random: &random),
                                       statistics: try LatentStatistics.fit(conditioning: plan.conditioning.flatMap { latents[$0]! },
                                                                            residuals: plan.statisticsResiduals(latents),
                                                                            monthsOfYear: months, dimension: d,
                                                                            seasonal: o.seasonalScaling, innovationOrder: o.innovationOrder,
                                                                            whitened: o.whitened, whiteningFloor: o.whiteningFloor,
                                                                            conditioningForm: o.conditioningForm))
            },
            restore: { try LatentDiffusion.load(tensors: $0.tensors, metadata: $0.metadata, path: statePath).model })
        diffusion.weightPrecision = o.weightPrecision
        let stats = diffusion.statistics
        let (data, validationData) = try plan.sequences(latents, statistics: stats, monthsOfYear: months, dimension: d)
        let provenance = ["data": source, "training_members": MemberSelection.describe(training),
                          "conditioning_member": "\(plan.conditioning[0])",
                          "conditioning_members": MemberSelection.describe(plan.conditioning), "seed": "\(o.seed)",
                          "vae_hash": vaeDigest, "epochs": "\(o.epochs)",
                          "steps_per_epoch": "\(o.stepsPerEpoch)", "batch_size": "\(o.batchSize)", "batch_parts": "\(o.batchParts)", "time_steps": "\(T)"]
        let parameters = diffusion.generator.parameters

        /// The model file holds the EMA weights; the state file the raw weights, optimiser and EMA.
        /// Written while the EMA weights are in place: the contents share the parameters' storage.
        func saveModel() throws {
            try run.withAveragedWeights {
                try LatentDiffusion.write(try diffusion.checkpointContents(provenance: provenance), to: modelPath)
            }
            directory.keep()
        }

        var reports: [EpochReport] = []
        let completed = try run.train(
            .init(epochs: o.epochs, stepsPerEpoch: o.stepsPerEpoch, learningRate: o.learningRate,
                  warmupSteps: min(500, o.stepsPerEpoch), stopAfterSteps: o.stopAfterSteps),
            progress: progress, checkpoint: { try diffusion.checkpointContents(provenance: provenance) },
            // A checkpoint to resume from: the directory is kept whatever happens next.
            saved: { directory.keep() },
            step: { epoch, step in
                let random = RandomStream(seed: o.seed).substream("diffusion-batch-\(epoch)-\(step)")
                let loss = BatchGradients.compute(parameters: parameters, parts: min(o.batchParts, o.batchSize),
                                                  random: random) { part, parts, random in
                    let size = DataParallel.range(part, of: parts, count: o.batchSize).count
                    return (diffusion.loss(data, batchSize: size, random: &random), Float(size) / Float(o.batchSize))
                }
                return (loss, o.batchSize)
            },
            epochEnded: { epoch, tally in
                // A fixed set of windows, the same every epoch, scored with the EMA weights.
                let validationLoss = validationData.map { validationData in
                    run.withAveragedWeights {
                        var total = 0.0
                        GradientRecording.disabled {
                            for batch in 0..<4 {
                                var random = RandomStream(seed: o.seed).substream("diffusion-validation-\(batch)")
                                total += Double(diffusion.loss(validationData, batchSize: o.batchSize, random: &random).value[0])
                            }
                        }
                        return total / 4
                    }
                }
                let report = EpochReport(epoch: epoch, trainingLoss: tally.meanLoss ?? 0, validationLoss: validationLoss,
                                         stepsPerSecond: Double(tally.steps) / tally.seconds)
                reports.append(report)
                epochEnded?(report)
                try saveModel()
            })
        if completed {
            try saveModel()
            run.finish()
            try TrainingRecord.update(directory: o.output, step: kind.rawValue, data: o.data, reader: reader,
                                      trainingMembers: training, validationMembers: validation, started: started)
        }
        return Result(modelPath: modelPath, epochs: reports, completed: completed, seconds: Date().timeIntervalSince(started))
    }
}

/// VAE latents of whole members, cached in a safetensors file keyed by the digests of the VAE
/// and of the data files (their content, not their names: a file regenerated at the same
/// path is encoded again) so diffusion training and evaluation do not re-encode.
enum LatentCache {
    /// `digests`: those of the VAE and the data files when the caller has them already.
    static func latents(vae: TrainedVAE, vaePath: String, reader: EnsembleReader, source: String, members: [Int],
                        cachePath: String, digests: [String]? = nil) throws -> [Int: [Float]] {
        let key = try (digests ?? ([vaePath] + reader.paths).map { try FileDigest.hex(path: $0) }).joined(separator: "|")
        var cached: [String: Tensor] = [:]
        if FileManager.default.fileExists(atPath: cachePath),
           let (tensors, metadata) = try? SafeTensors.read(URL(fileURLWithPath: cachePath)), metadata["key"] == key {
            cached = tensors
        }
        var result: [Int: [Float]] = [:]
        var changed = false
        let months = reader.time.monthsOfYear
        for m in Set(members) {
            if let tensor = cached["member.\(m)"] {
                result[m] = tensor.values
                continue
            }
            let normalized = vae.normalization.normalize(try reader.readMember(m), monthsOfYear: months)
            let z = vae.encode(normalizedFields: normalized, count: reader.timeCount)
            result[m] = z
            cached["member.\(m)"] = Tensor(shape: [reader.timeCount, vae.latentDimension], values: z)
            changed = true
        }
        if changed { try SafeTensors.write(cached, metadata: ["key": key], to: URL(fileURLWithPath: cachePath)) }
        return result
    }
}

/// A short content digest of a file (FNV-1a, 64 bit, hex) for provenance and cache keys.
public enum FileDigest {
    /// Reads the file in blocks, so memory does not grow with its size.
    public static func hex(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw EnsembleGenError("\(path): cannot read the file to compute its digest")
        }
        defer { try? handle.close() }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
            for byte in block { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
        return String(format: "%016llx", hash)
    }
}
