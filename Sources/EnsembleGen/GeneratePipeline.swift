import Climate
import Foundation
import NetCDF
import Models
import OutputFiles
import RandomStreams
import Tensor

/// `ensemblegen generate`: samples new members' latent residuals with the diffusion model,
/// adds the conditioning latents, decodes with the VAE, adds the climatology back and
/// streams the members to a CF NetCDF file. Member k depends only on (model, conditioning,
/// seed, sampler, k): not on how many members are generated or how they are batched.
public enum GeneratePipeline {
    public struct Options: Sendable {
        public var model: String
        public var generator: GeneratorKind
        public var memberCount: Int
        public var firstMember: Int
        public var startYear: Int?
        public var endYear: Int?
        /// Another simulation on the model's grid to condition on (default: the model's conditioning member).
        public var conditioning: String?
        public var conditioningMember: Int
        public var variable: String?
        public var sampler: LatentDiffusion.Sampler
        public var seed: UInt64
        /// Most members held between sampling and writing (at least one sampling group is
        /// always allowed); nil → one sampling group (`LatentDiffusion.groupSize`) per thread
        /// and one more, so that a core can sample while another decodes.
        public var batchSize: Int?
        public var output: String
        /// Chunk shape and deflate level of the output's data variable.
        public var storage: OutputStorage
        public var layout: OutputLayout
        /// Add the grid-scale variability the VAE does not reproduce (the model directory's
        /// unresolved-variability.safetensors) to every decoded field.
        public var unresolvedVariability: Bool
        public var commandLine: [String]

        public init(model: String, generator: GeneratorKind, memberCount: Int, firstMember: Int = 0, startYear: Int? = nil,
                    endYear: Int? = nil, conditioning: String? = nil, conditioningMember: Int = 0, variable: String? = nil,
                    sampler: LatentDiffusion.Sampler = .dpmSolver(), seed: UInt64 = 1, batchSize: Int? = nil, output: String,
                    storage: OutputStorage = OutputStorage(), layout: OutputLayout = .timeFirst, unresolvedVariability: Bool = true,
                    commandLine: [String] = CommandLine.arguments) {
            self.model = model; self.generator = generator; self.memberCount = memberCount; self.firstMember = firstMember
            self.startYear = startYear; self.endYear = endYear; self.conditioning = conditioning
            self.conditioningMember = conditioningMember; self.variable = variable; self.sampler = sampler
            self.seed = seed; self.batchSize = batchSize; self.output = output; self.storage = storage
            self.layout = layout; self.unresolvedVariability = unresolvedVariability; self.commandLine = commandLine
        }
    }

    public struct Result: Sendable {
        public var output: String
        public var members: ClosedRange<Int>
        public var months: Int
        public var seconds: Double
        /// Why the unresolved variability was not added although asked for (nil when it was, or was not asked for).
        public var note: String?
        public var text: String {
            String(format: "wrote %@: %d members × %d time steps in %.1f s (%.1f members/min)", output, members.count, months,
                   seconds, Double(members.count) / seconds * 60) + (note.map { "\nnote: " + $0 } ?? "")
        }
    }

    /// Where generation stands.
    public struct Status: Sendable {
        public var membersWritten: Int
        /// Members whose latent series are sampled (written or waiting to be decoded).
        public var membersSampled: Int
        public var memberCount: Int
        /// Months sampled so far by the oldest sampling group in progress (nil when none is).
        public var monthsSampled: Int?
        /// Months per member.
        public var months: Int

        /// "sampled 32/100, sampling month 480/1872" or "sampled 100/100, decoding".
        public var text: String {
            "sampled \(membersSampled)/\(memberCount), " + (monthsSampled.map { "sampling month \($0)/\(months)" } ?? "decoding")
        }
    }

    public typealias Progress = (Status) -> Void

    public static func run(_ o: Options, progress: Progress? = nil) throws -> Result {
        let started = Date()
        let batchSize = o.batchSize ?? LatentDiffusion.groupSize * (ComputeThreads.count + 1)
        guard o.memberCount >= 1, o.firstMember >= 0, batchSize >= 1 else {
            throw EnsembleGenError("\(o.output): \(o.memberCount) members from member \(o.firstMember), at most \(batchSize) held at a time: the member count and the members held must be at least 1 and the first member at least 0")
        }
        let model = ModelDirectory(o.model)
        try OutputFile.checkDestination(o.output, inputs: [o.conditioning, model.path].compactMap { $0 } + model.files)
        let vae = try model.vae()
        var unresolved: UnresolvedVariability?, note: String?
        if o.unresolvedVariability {
            unresolved = try model.unresolvedVariability()
            if unresolved == nil {
                note = "\(model.path) has no \(UnresolvedVariability.fileName), so the members are the VAE's smooth decodings; \(model.howToMake(UnresolvedVariability.fileName))"
            }
        }
        let diffusion = try model.diffusion(o.generator).model
        guard (1...diffusion.configuration.diffusionSteps).contains(o.sampler.steps) else {
            throw EnsembleGenError("\(o.sampler.steps) sampling steps: the model has \(diffusion.configuration.diffusionSteps) noise levels, so 1–\(diffusion.configuration.diffusionSteps) steps")
        }
        if let calibration = diffusion.spreadCalibration, !calibration.sampler.samples(like: o.sampler) {
            note = [note, "the model's spread calibration was fitted with \(calibration.sampler.text), not \(o.sampler.text): the spread may differ from the training members'; refit it with `ensemblegen calibrate-spread` and the same sampler options"]
                .compactMap { $0 }.joined(separator: "\nnote: ")
        }
        let d = try model.latentDimension()
        let conditioning: ConditioningSeries
        var variable = VariableMetadata.nearSurfaceAirTemperature
        var scalarCoordinates = ScalarCoordinate.standard(for: variable)
        if let path = o.conditioning {
            let reader = try EnsembleReader(path: path, variable: o.variable, requirements: .models)
            defer { try? reader.close() }
            try model.checkData(reader, dataPath: path)
            guard (0..<reader.memberCount).contains(o.conditioningMember) else {
                throw CFError(file: path, "conditioning member \(o.conditioningMember) does not exist (0…\(reader.memberCount - 1))")
            }
            let normalized = vae.normalization.normalize(try reader.readMember(o.conditioningMember), monthsOfYear: reader.time.monthsOfYear)
            // What the conditioning simulation says of its variable holds for the generated one.
            variable.cellMethods = reader.variable.cellMethods ?? variable.cellMethods
            scalarCoordinates = reader.scalarCoordinates.isEmpty ? scalarCoordinates : reader.scalarCoordinates
            conditioning = ConditioningSeries(latents: vae.encode(normalizedFields: normalized, count: reader.timeCount), dimension: d,
                                              time: reader.time, member: reader.members[o.conditioningMember], source: path)
        } else {
            conditioning = try model.conditioning()
        }
        let years = conditioning.time.years
        let (first, last) = (years.first ?? 0, years.last ?? 0)
        for year in [o.startYear, o.endYear].compactMap({ $0 }) where !(first...last).contains(year) {
            throw CFError(file: conditioning.source, "the conditioning series covers \(first)–\(last), so members can only be generated for those years, not \(year); choose years inside it or condition on a longer simulation")
        }
        let range = conditioning.time.indices(fromYear: o.startYear ?? first, toYear: o.endYear ?? last)
        guard range.count >= 12 else {
            throw CFError(file: conditioning.source, "the conditioning series covers \(years.first ?? 0)–\(years.last ?? 0); the years asked for leave \(range.count) months (need at least 12)")
        }
        let time = TimeAxis(units: conditioning.time.units, calendar: conditioning.time.calendar,
                            values: Array(conditioning.time.values[range]), bounds: conditioning.time.bounds.map { Array($0[range]) })
        let zc = Array(conditioning.latents[(range.lowerBound * d)..<(range.upperBound * d)])
        let months = time.monthsOfYear, T = time.count
        let data = LatentSequences(residuals: [], conditioning: diffusion.statistics.normalizeConditioning(zc, monthsOfYear: months),
                                   monthsOfYear: months, dimension: d)
        let members = o.firstMember...(o.firstMember + o.memberCount - 1)
        var samplerText = o.sampler.text
        let block = diffusion.configuration.blockMonths
        if let kept = o.sampler.keptMonths, kept < block { samplerText += ", \(kept) of \(block) months kept per window" }
        var attributes = try provenance(o, model: model, conditioning: conditioning, samplerText: samplerText,
                                        unresolved: unresolved, calibrated: diffusion.spreadCalibration)
        attributes.scalarCoordinates = scalarCoordinates
        try requireSpace(members: o.memberCount, values: T * vae.grid.cellCount, output: o.output)
        let writer = try EnsembleWriter(path: o.output, variable: variable, grid: vae.grid, time: time,
                                        members: members.map(String.init), attributes: attributes,
                                        storage: o.storage, layout: o.layout,
                                        inputs: [o.conditioning].compactMap { $0 } + model.files)
        writer.requiredRange = EnsembleWriter.plausibleTemperature
        do {
            // Sampling of one group and decoding of sampled members share the cores;
            // `batchSize` bounds the members held in between.
            let scheduler = GenerationScheduler(memberCount: o.memberCount, groupSize: LatentDiffusion.groupSize,
                                                workers: ComputeThreads.count, limit: batchSize)
            let weights = TransposedWeights()  // shared by the groups: transposed once per run
            try scheduler.run(sample: { positions, monthsDone in
                diffusion.sample(conditioning: data, members: positions.map { members.lowerBound + $0 }, seed: o.seed,
                                 sampler: o.sampler, weights: weights, progress: monthsDone)
            }, decode: { position, series in
                let r = diffusion.sampledResiduals(series, monthsOfYear: months)
                var fields = vae.normalization.denormalize(vae.decode(latents: zip(zc, r).map { $0 + $1 }, count: T), monthsOfYear: months)
                if let unresolved {
                    var random = RandomStream(seed: o.seed).substream("unresolved-variability").substream(UInt64(members.lowerBound + position))
                    unresolved.addNoise(to: &fields, monthsOfYear: months, random: &random)
                }
                return fields
            }, write: { position, fields in
                try writer.write(member: position, values: fields)
            }, report: { counts in
                progress?(Status(membersWritten: counts.written, membersSampled: counts.sampled, memberCount: o.memberCount,
                                 monthsSampled: counts.monthsSampled, months: T))
            })
            try writer.finish()
        } catch {
            writer.cancel()
            throw error
        }
        return Result(output: o.output, members: members, months: T, seconds: Date().timeIntervalSince(started), note: note)
    }

    /// The generated file's global attributes: what was generated, when, by which version and
    /// commit, from which model files (SHA-256), emulating which model trained on which data
    /// (`TrainingRecord`), conditioned on which file (absolute path and SHA-256). No
    /// `institution`: an emulation is not the output of the institution whose model it emulates.
    static func provenance(_ o: Options, model: ModelDirectory, conditioning: ConditioningSeries, samplerText: String,
                           unresolved: UnresolvedVariability?, calibrated: SpreadCalibration?) throws -> OutputAttributes {
        let record = try TrainingRecord.summary(directory: model.path)
        let emulated = record?.sourceID
        let conditioningFile = o.conditioning ?? model.file(ConditioningSeries.fileName)
        let conditioningSHA256 = try FileDigest.sha256(path: conditioningFile)
        var files = [ModelDirectory.vaeFileName, LatentDiffusion.fileName(o.generator)]
        if o.conditioning == nil { files.append(ConditioningSeries.fileName) }
        if unresolved != nil { files.append(UnresolvedVariability.fileName) }
        let unresolvedText = unresolved == nil ? "none" : "Gaussian noise with the statistics of \(UnresolvedVariability.fileName) (digest \(try model.digest(UnresolvedVariability.fileName)))"
        let extra: [(name: String, value: AttributeValue)] = EnsembleGenVersion.creationAttributes() + [
            ("model", .text(EnsembleGenVersion.absolutePath(model.path))), ("model_sha256", .text(try model.checksums(files, known: [ConditioningSeries.fileName: conditioningSHA256]))),
            ("seed", .int64([Int64(bitPattern: o.seed)])), ("conditioning_member", .text(conditioning.member)),
            ("conditioning_source", .text(EnsembleGenVersion.absolutePath(conditioningFile))),
            ("conditioning_sha256", .text(conditioningSHA256)),
            ("generator", .text(o.generator.rawValue)), ("sampler", .text(samplerText)),
            ("checkpoint_hash", .text(try model.digest(LatentDiffusion.fileName(o.generator)))),
            ("vae_hash", .text(try model.digest(ModelDirectory.vaeFileName))),
            ("unresolved_variability", .text(unresolvedText)), ("spread_calibration", .text(calibrated?.summary ?? "none")),
            ("first_member", .int32([Int32(o.firstMember)])),
        ]
        let provenance = try model.diffusion(o.generator).provenance
        return OutputAttributes(
            title: "Generated ensemble of near-surface air temperature (EnsembleGen latent diffusion\(emulated.map { " emulation of " + $0 } ?? ""))",
            institution: "",
            source: "EnsembleGen \(EnsembleGenVersion.string) emulation of \(emulated ?? "the simulations it was trained on"): \(o.generator.rawValue) latent diffusion model \(EnsembleGenVersion.absolutePath(model.path))",
            history: EnsembleGenVersion.historyLine(commandLine: o.commandLine, files: [o.model, o.output] + [o.conditioning].compactMap { $0 }),
            references: "arXiv:2407.02070 (latent diffusion for climate ensembles); Docs/model-card.md",
            comment: "Member k = VAE-decode(z_c + sampled residual k\(calibrated == nil ? "" : " × spread calibration factors")) + climatology\(unresolved == nil ? "" : " + unresolved grid-scale variability"); conditioned on member \(conditioning.member) of \(conditioning.source). Sampler: \(samplerText).",
            extra: extra + TrainingRecord.outputAttributes(record, provenance: provenance))
    }

    /// Refuses an ensemble that cannot fit on the output's file system before sampling
    /// anything. Generated fields deflate to about 60 % of float32, so half the raw size
    /// must be free.
    static func requireSpace(members: Int, values: Int, output: String) throws {
        guard let free = OutputFile.freeBytes(OutputFile.parentDirectory(output)).map({ Double($0) }) else { return }
        let needed = Double(members) * Double(values) * 4 * 0.5
        guard needed > free else { return }
        throw EnsembleGenError("\(output): " + String(format: "%d members need about %.1f GB on disk but only %.1f GB are free; generate fewer members at a time or write elsewhere",
                                                      members, needed / 1e9, free / 1e9))
    }
}
