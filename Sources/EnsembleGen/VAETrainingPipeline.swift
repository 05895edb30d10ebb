import Climate
import Foundation
import Models
import OutputFiles
import RandomStreams
import Tensor

/// `ensemblegen train-vae`: fits the anomaly normalisation on the training members, then
/// trains the VAE with shuffled mini-batches, AdamW, warm-up + cosine learning rate,
/// gradient clipping; validates on held-out members after every epoch (RMSE in K) and
/// checkpoints so that `resume` continues a killed run to the same final weights.
public enum VAETrainingPipeline {
    public struct Options: Sendable {
        public var data: [String]
        public var variable: String?
        /// Training members (default: all but the validation members).
        public var trainingMembers: String?
        /// Held-out members for the validation RMSE (default: none).
        public var validationMembers: String?
        public var configuration: VAEConfiguration
        public var scaling: AnomalyNormalization.Scaling
        /// Carry each field's global mean as a latent value of its own (`TrainedVAE.separatesGlobalMean`).
        public var separateGlobalMean: Bool
        public var epochs: Int
        public var batchSize: Int
        /// Parts each mini-batch is split into, back-propagated at once (`BatchGradients`).
        public var batchParts: Int
        /// Fields drawn per epoch (default: every training field once).
        public var samplesPerEpoch: Int?
        public var learningRate: Float
        public var validationSamples: Int
        public var checkpointInterval: Int
        public var seed: UInt64
        public var output: String
        public var resume: Bool
        /// Testing aid: stop after this many optimiser steps in this run, as if killed.
        public var stopAfterSteps: Int?

        public init(data: [String], variable: String? = nil, trainingMembers: String? = nil, validationMembers: String? = nil,
                    configuration: VAEConfiguration = VAEConfiguration(), scaling: AnomalyNormalization.Scaling = .global,
                    separateGlobalMean: Bool = true,
                    epochs: Int = 10, batchSize: Int = 32, batchParts: Int = BatchGradients.defaultParts,
                    samplesPerEpoch: Int? = nil, learningRate: Float = 2e-3,
                    validationSamples: Int = 1024, checkpointInterval: Int = 200, seed: UInt64 = 1, output: String,
                    resume: Bool = false, stopAfterSteps: Int? = nil) {
            self.data = data; self.variable = variable
            self.trainingMembers = trainingMembers; self.validationMembers = validationMembers
            self.configuration = configuration; self.scaling = scaling; self.separateGlobalMean = separateGlobalMean
            self.epochs = epochs; self.batchSize = batchSize; self.batchParts = batchParts; self.samplesPerEpoch = samplesPerEpoch
            self.learningRate = learningRate; self.validationSamples = validationSamples
            self.checkpointInterval = checkpointInterval; self.seed = seed; self.output = output
            self.resume = resume; self.stopAfterSteps = stopAfterSteps
        }
    }

    public struct EpochReport: Sendable {
        public var epoch: Int
        public var trainingLoss: Double
        public var validationRMSE: Double?
        public var samplesPerSecond: Double
        public var text: String {
            var line = String(format: "epoch %d  loss %.4f", epoch + 1, trainingLoss)
            if let rmse = validationRMSE { line += String(format: "  validation RMSE %.3f K", rmse) }
            return line + String(format: "  %.0f samples/s", samplesPerSecond)
        }
    }

    public struct Result: Sendable {
        public var output: String
        public var epochs: [EpochReport]
        public var compressionRatio: Double
        public var seconds: Double
        public var completed: Bool
        public var text: String {
            var lines = [completed ? "wrote \(output)" : "stopped early; resume with --resume (state in \(VAETrainingPipeline.statePath(output)))"]
            lines.append(String(format: "compression ratio %.1f, %.1f s", compressionRatio, seconds))
            if let last = epochs.last?.validationRMSE { lines.append(String(format: "validation RMSE %.3f K", last)) }
            return lines.joined(separator: "\n")
        }
    }

    /// The resumable training state written next to the model.
    public static func statePath(_ output: String) -> String { TrainingState.path(for: output) }

    /// Progress callback: (step within epoch, steps in epoch, epoch, running loss).
    public typealias Progress = (Int, Int, Int, Double) -> Void

    public static func run(_ o: Options, progress: Progress? = nil, epochEnded: ((EpochReport) -> Void)? = nil) throws -> Result {
        let started = Date()
        guard o.epochs >= 1, o.batchSize >= 1 else { throw EnsembleGenError("training needs at least one epoch and one field per mini-batch") }
        try OutputFile.checkDestination(o.output, inputs: o.data)
        if !o.resume { try OutputFile.checkDestination(statePath(o.output), inputs: o.data) }
        let reader = try EnsembleReader(paths: o.data, variable: o.variable, requirements: .models)
        defer { try? reader.close() }
        let source = o.data.joined(separator: ", ")
        let (training, validation) = try MemberSelection.split(training: o.trainingMembers, validation: o.validationMembers,
                                                               count: reader.memberCount, file: source)
        do {
            try o.configuration.validate()
        } catch let error as ModelError {
            throw CFError(file: source, "\(error)")
        }
        let months = reader.time.monthsOfYear
        // The fields and their normalised copy.
        try reader.requireMemory(members: training.count, copies: 2)
        let trainingFields = try training.map { try reader.readMember($0) }
        let times = months.count
        let fieldCount = trainingFields.count * times
        let samples = min(o.samplesPerEpoch ?? fieldCount, fieldCount)
        let stepsPerEpoch = (samples + o.batchSize - 1) / o.batchSize
        let fingerprint = RunFingerprint(
            data: o.data, dataDigests: try reader.paths.map { try FileDigest.hex(path: $0) }, trainingMembers: training, seed: o.seed,
            schedule: .init(epochs: o.epochs, stepsPerEpoch: stepsPerEpoch, samplesPerEpoch: samples, batchSize: o.batchSize,
                            batchParts: o.batchParts, learningRate: o.learningRate),
            vae: .init(architecture: o.configuration, scaling: o.scaling, separateGlobalMean: o.separateGlobalMean ? true : nil))

        // Model and normalisation: fresh, or from the training state.
        let (vae, run) = try TrainingRun.begin(
            resume: o.resume, statePath: statePath(o.output), fingerprint: fingerprint, learningRate: o.learningRate,
            parameters: { (vae: TrainedVAE) in vae.model.parameters },
            fresh: {
                let normalization = try AnomalyNormalization.fit(members: trainingFields, monthsOfYear: months, grid: reader.grid,
                                                                 scaling: o.scaling, source: source)
                var random = RandomStream(seed: o.seed).substream("vae-initialisation")
                return TrainedVAE(model: VariationalAutoencoder(configuration: o.configuration, random: &random),
                                  normalization: normalization, separatesGlobalMean: o.separateGlobalMean,
                                  provenance: ["time_frequency": reader.time.frequency.rawValue])
            },
            restore: { try TrainedVAE.load(tensors: $0.tensors, metadata: $0.metadata, path: statePath(o.output)) })
        try vae.checkData(reader, dataPath: source)
        var normalized = [Float]()
        normalized.reserveCapacity(trainingFields.count * times * vae.padding.paddedLatitudes * vae.padding.paddedLongitudes)
        for member in trainingFields { normalized += vae.networkInput(vae.normalization.normalize(member, monthsOfYear: months), count: times) }
        let validationSet = try validationFields(reader: reader, members: validation, samples: o.validationSamples, vae: vae)

        let areaWeights = vae.trainingWeights
        let padding = vae.padding, paddedCells = padding.paddedLatitudes * padding.paddedLongitudes
        let parameters = vae.model.parameters
        var reports: [EpochReport] = []
        vae.provenance = ["data": source, "training_members": "\(training)", "seed": "\(o.seed)", "epochs": "\(o.epochs)",
                          "batch_size": "\(o.batchSize)", "batch_parts": "\(o.batchParts)", "scaling": o.scaling.rawValue,
                          "time_frequency": reader.time.frequency.rawValue]

        var order: [Int] = []
        let completed = try run.train(
            .init(epochs: o.epochs, stepsPerEpoch: stepsPerEpoch, learningRate: o.learningRate, warmupSteps: min(200, stepsPerEpoch),
                  checkpointInterval: o.checkpointInterval, stopAfterSteps: o.stopAfterSteps),
            progress: progress, checkpoint: { try vae.checkpointContents() },
            epochStarted: { epoch in
                order = Array(0..<fieldCount)
                var shuffler = RandomStream(seed: o.seed).substream("vae-epoch-\(epoch)")
                order.shuffle(using: &shuffler)
            },
            step: { epoch, step in
                let indices = order[(step * o.batchSize)..<min(samples, (step + 1) * o.batchSize)]
                let batch = Tensor(uninitializedShape: [indices.count, padding.paddedLatitudes, padding.paddedLongitudes, 1])
                for (row, index) in indices.enumerated() {
                    normalized.withUnsafeBufferPointer {
                        (batch.pointer + row * paddedCells).update(from: $0.baseAddress! + index * paddedCells, count: paddedCells)
                    }
                }
                let noise = RandomStream(seed: o.seed).substream("vae-noise-\(epoch)-\(step)")
                let loss = BatchGradients.compute(parameters: parameters, parts: min(o.batchParts, indices.count),
                                                  random: noise, convolutional: true) { part, parts, random in
                    let rows = DataParallel.part(part, of: parts, batch)
                    return (vae.model.loss(rows.rows, areaWeights: areaWeights, random: &random).total, rows.share)
                }
                return (loss, indices.count)
            },
            epochEnded: { epoch, tally in
                let rmse = validationSet.map { validationRMSE(vae, $0, grid: reader.grid) }
                // Anomalies are a few kelvin: a reconstruction tens of kelvin off is a diverged run.
                if let rmse, !(rmse < 50) {
                    throw EnsembleGenError(String(format: "training diverged: the validation RMSE is %g K after epoch %d; lower the learning rate (the model saved at an earlier epoch, if any, is kept)", rmse, epoch + 1))
                }
                let report = EpochReport(epoch: epoch, trainingLoss: tally.meanLoss ?? .nan, validationRMSE: rmse,
                                         samplesPerSecond: Double(tally.samples) / tally.seconds)
                reports.append(report)
                epochEnded?(report)
                if let rmse { vae.provenance["validation_rmse_K"] = String(format: "%.4f", rmse) }
                try vae.save(to: o.output)
            })
        if completed {
            vae.provenance["training_seconds"] = String(format: "%.0f", Date().timeIntervalSince(started))
            try vae.save(to: o.output)
            run.finish()
            try TrainingRecord.update(directory: (o.output as NSString).deletingLastPathComponent, step: "vae", data: o.data,
                                      reader: reader, trainingMembers: training, validationMembers: validation, started: started)
        }
        return Result(output: o.output, epochs: reports, compressionRatio: vae.compressionRatio,
                      seconds: Date().timeIntervalSince(started), completed: completed)
    }

    /// Normalised held-out fields: `samples` months spread evenly over the validation members.
    struct ValidationSet {
        var normalized: [Float]
        var months: [Int]
        var count: Int
    }

    static func validationFields(reader: EnsembleReader, members: [Int], samples: Int, vae: TrainedVAE) throws -> ValidationSet? {
        guard !members.isEmpty, samples > 0 else { return nil }
        let times = reader.timeCount, months = reader.time.monthsOfYear
        let perMember = max(1, min(times, samples / members.count))
        let stride = max(1, times / perMember)
        var normalized: [Float] = [], chosenMonths: [Int] = []
        for m in members {
            let field = vae.normalization.normalize(try reader.readMember(m), monthsOfYear: months)
            for t in Swift.stride(from: 0, to: times, by: stride).prefix(perMember) {
                normalized += field[(t * reader.grid.cellCount)..<((t + 1) * reader.grid.cellCount)]
                chosenMonths.append(months[t])
            }
        }
        return ValidationSet(normalized: normalized, months: chosenMonths, count: chosenMonths.count)
    }

    /// Area-weighted RMSE (K) of decode(encode-mean(x)) over the validation fields.
    static func validationRMSE(_ vae: TrainedVAE, _ set: ValidationSet, grid: Grid) -> Double {
        let latents = vae.encode(normalizedFields: set.normalized, count: set.count)
        let decoded = vae.decode(latents: latents, count: set.count)
        let weights = grid.areaWeights, cells = grid.cellCount, scale = vae.normalization.scale
        var total = 0.0
        for i in 0..<set.count {
            for c in 0..<cells {
                let d = Double((decoded[i * cells + c] - set.normalized[i * cells + c]) * scale[c])
                total += weights[c] * d * d
            }
        }
        return (total / Double(set.count)).squareRoot()
    }
}
