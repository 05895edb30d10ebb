import Climate
import Foundation
import Models
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
                    epochs: Int = 10, batchSize: Int = 32, batchParts: Int = BatchGradients.defaultParts,
                    samplesPerEpoch: Int? = nil, learningRate: Float = 2e-3,
                    validationSamples: Int = 1024, checkpointInterval: Int = 200, seed: UInt64 = 1, output: String,
                    resume: Bool = false, stopAfterSteps: Int? = nil) {
            self.data = data; self.variable = variable
            self.trainingMembers = trainingMembers; self.validationMembers = validationMembers
            self.configuration = configuration; self.scaling = scaling
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
        guard o.epochs >= 1, o.batchSize >= 1 else { throw CFError(file: o.output, "--epochs and --batch-size must be at least 1") }
        let reader = try EnsembleReader(paths: o.data, variable: o.variable, requirements: .models)
        defer { try? reader.close() }
        let source = o.data.joined(separator: ", ")
        let (training, validation) = try MemberSelection.split(training: o.trainingMembers, validation: o.validationMembers,
                                                               count: reader.memberCount, file: source)
        try o.configuration.validate(latitudes: reader.grid.latitudeCount, longitudes: reader.grid.longitudeCount)
        let months = reader.time.monthsOfYear
        // The fields and their normalised copy.
        try reader.requireMemory(members: training.count, copies: 2)
        let trainingFields = try training.map { try reader.readMember($0) }
        let c = o.configuration
        let fingerprint = "\(source)|\(training)|\(o.seed)|\(o.batchSize)|\(o.samplesPerEpoch ?? -1)|\(o.epochs)|\(o.learningRate)\(o.batchParts > 1 ? "|parts\(o.batchParts)" : "")"
            + "|channels \(c.channels.map(String.init).joined(separator: ","))|latent channels \(c.latentChannels)|kl weight \(c.klWeight)|scaling \(o.scaling.rawValue)"

        // Model, normalisation and optimiser: fresh, or from the training state.
        var startEpoch = 0, startStep = 0
        let vae: TrainedVAE
        let optimizer: AdamW
        let statePath = statePath(o.output)
        if o.resume {
            let state = try TrainingState.read(statePath, fingerprint: fingerprint)
            vae = try TrainedVAE.load(tensors: state.tensors, metadata: state.metadata, path: statePath)
            optimizer = AdamW(parameters: vae.model.parameters, learningRate: o.learningRate)
            try optimizer.restore(state.tensors)
            startEpoch = state.epoch
            startStep = state.step
        } else {
            let normalization = try AnomalyNormalization.fit(members: trainingFields, monthsOfYear: months, grid: reader.grid,
                                                             scaling: o.scaling, source: source)
            var random = RandomStream(seed: o.seed).substream("vae-initialisation")
            vae = TrainedVAE(model: VariationalAutoencoder(configuration: o.configuration, random: &random),
                             normalization: normalization, provenance: ["time_frequency": reader.time.frequency.rawValue])
            optimizer = AdamW(parameters: vae.model.parameters, learningRate: o.learningRate)
        }
        try vae.checkData(reader, dataPath: source)
        let cells = reader.grid.cellCount, times = months.count
        var normalized = [Float]()
        normalized.reserveCapacity(trainingFields.count * times * cells)
        for member in trainingFields { normalized += vae.normalization.normalize(member, monthsOfYear: months) }
        let fieldCount = trainingFields.count * times
        let validationSet = try validationFields(reader: reader, members: validation, samples: o.validationSamples, vae: vae)

        let areaWeights = Tensor(shape: [reader.grid.latitudeCount, reader.grid.longitudeCount],
                                 values: reader.grid.areaWeights.map { Float($0 * Double(cells)) })
        let samples = min(o.samplesPerEpoch ?? fieldCount, fieldCount)
        let stepsPerEpoch = (samples + o.batchSize - 1) / o.batchSize
        let schedule = LearningRateSchedule(peak: o.learningRate, floor: o.learningRate / 20,
                                            warmupSteps: min(200, stepsPerEpoch), totalSteps: stepsPerEpoch * o.epochs)
        let parameters = vae.model.parameters
        var reports: [EpochReport] = []
        var stepsThisRun = 0
        vae.provenance = ["data": source, "training_members": "\(training)", "seed": "\(o.seed)", "epochs": "\(o.epochs)",
                          "batch_size": "\(o.batchSize)", "batch_parts": "\(o.batchParts)", "scaling": o.scaling.rawValue,
                          "time_frequency": reader.time.frequency.rawValue]

        func saveState(epoch: Int, step: Int) throws {
            try TrainingState.write(try vae.checkpointContents(), extra: [optimizer.state], fingerprint: fingerprint,
                                    epoch: epoch, step: step, to: statePath)
        }

        for epoch in startEpoch..<o.epochs {
            let epochStart = Date()
            var order = Array(0..<fieldCount)
            var shuffler = RandomStream(seed: o.seed).substream("vae-epoch-\(epoch)")
            order.shuffle(using: &shuffler)
            var lossTotal = 0.0, lossCount = 0, seen = 0
            let firstStep = epoch == startEpoch ? startStep : 0
            for step in firstStep..<stepsPerEpoch {
                let indices = order[(step * o.batchSize)..<min(samples, (step + 1) * o.batchSize)]
                let batch = Tensor(uninitializedShape: [indices.count, reader.grid.latitudeCount, reader.grid.longitudeCount, 1])
                for (row, index) in indices.enumerated() {
                    normalized.withUnsafeBufferPointer {
                        (batch.pointer + row * cells).update(from: $0.baseAddress! + index * cells, count: cells)
                    }
                }
                optimizer.learningRate = schedule.rate(at: epoch * stepsPerEpoch + step)
                let noise = RandomStream(seed: o.seed).substream("vae-noise-\(epoch)-\(step)")
                let loss = BatchGradients.compute(parameters: parameters, parts: min(o.batchParts, indices.count),
                                                  random: noise) { part, parts, random in
                    let rows = DataParallel.part(part, of: parts, batch)
                    return (vae.model.loss(rows.rows, areaWeights: areaWeights, random: &random).total, rows.share)
                }
                try TrainingState.requireFiniteLoss(Double(loss), epoch: epoch, step: step)
                clipGradientNorm(parameters, maxNorm: 1)
                optimizer.update()
                lossTotal += loss; lossCount += 1; seen += indices.count
                stepsThisRun += 1
                progress?(step + 1, stepsPerEpoch, epoch, lossTotal / Double(lossCount))
                if (step + 1) % o.checkpointInterval == 0 && step + 1 < stepsPerEpoch {
                    try saveState(epoch: epoch, step: step + 1)
                }
                if let stop = o.stopAfterSteps, stepsThisRun >= stop {
                    try saveState(epoch: epoch, step: step + 1)
                    return Result(output: o.output, epochs: reports, compressionRatio: vae.compressionRatio,
                                  seconds: Date().timeIntervalSince(started), completed: false)
                }
            }
            let rmse = validationSet.map { validationRMSE(vae, $0, grid: reader.grid) }
            let report = EpochReport(epoch: epoch, trainingLoss: lossCount > 0 ? lossTotal / Double(lossCount) : .nan,
                                     validationRMSE: rmse, samplesPerSecond: Double(seen) / Date().timeIntervalSince(epochStart))
            reports.append(report)
            epochEnded?(report)
            if let rmse { vae.provenance["validation_rmse_K"] = String(format: "%.4f", rmse) }
            try vae.save(to: o.output)
            try saveState(epoch: epoch + 1, step: 0)
        }
        vae.provenance["training_seconds"] = String(format: "%.0f", Date().timeIntervalSince(started))
        try vae.save(to: o.output)
        try? FileManager.default.removeItem(atPath: statePath)
        return Result(output: o.output, epochs: reports, compressionRatio: vae.compressionRatio,
                      seconds: Date().timeIntervalSince(started), completed: true)
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
