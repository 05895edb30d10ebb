import Climate
import Diagnostics
import Foundation
import Models
import OutputFiles

/// `ensemblegen reconstruct`: encodes and decodes every member through a trained VAE,
/// writes the reconstruction as CF NetCDF, and measures the error in kelvin.
public enum ReconstructPipeline {
    public struct Options: Sendable {
        public var model: String
        public var data: [String]
        public var variable: String?
        public var members: String?
        public var output: String?
        /// Chunk shape and deflate level of the output's data variable.
        public var storage: OutputStorage
        public var commandLine: [String]

        public init(model: String, data: [String], variable: String? = nil, members: String? = nil, output: String? = nil,
                    storage: OutputStorage = OutputStorage(), commandLine: [String] = CommandLine.arguments) {
            self.model = model; self.data = data; self.variable = variable
            self.members = members; self.output = output; self.storage = storage; self.commandLine = commandLine
        }
    }

    /// Latitude bands of the error table (degrees north).
    public static let bands: [(String, ClosedRange<Double>)] = [
        ("90S-60S", -90 ... -60), ("60S-30S", -60 ... -30), ("30S-0", -30...0),
        ("0-30N", 0...30), ("30N-60N", 30...60), ("60N-90N", 60...90),
    ]

    public struct Result: Sendable {
        public var members: [Int]
        /// Area-weighted RMSE (K) over all members, months and cells.
        public var rmse: Double
        public var bandRMSE: [(band: String, rmse: Double)]
        public var nino34RMSE: Double
        /// Mean over members of the correlation of the Niño3.4 index (anomaly from the model
        /// climatology, linearly detrended) of reconstruction and original.
        public var nino34Correlation: Double
        public var compressionRatio: Double
        public var output: String?

        public var text: String {
            var lines = [String(format: "members %@: area-weighted RMSE %.3f K, compression ratio %.1f",
                                MemberSelection.describe(members), rmse, compressionRatio)]
            lines.append("RMSE by latitude band (K): " + bandRMSE.map { String(format: "%@ %.3f", $0.band, $0.rmse) }.joined(separator: ", "))
            lines.append(String(format: "Niño3.4 box RMSE %.3f K, Niño3.4 index correlation %.4f", nino34RMSE, nino34Correlation))
            if let output { lines.append("wrote \(output)") }
            return lines.joined(separator: "\n")
        }
    }

    public static func run(_ o: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        if let output = o.output { try OutputFile.checkDestination(output, inputs: [o.model] + o.data) }
        let (vae, reader, source, members) = try VAEData.open(vae: o.model, data: o.data, variable: o.variable, members: o.members)
        defer { try? reader.close() }
        let grid = reader.grid, cells = grid.cellCount, months = reader.time.monthsOfYear, times = months.count
        let writer = try o.output.map { path in
            try EnsembleWriter(path: path, variable: reader.variable, grid: grid, time: reader.time,
                               members: members.map { reader.members[$0] },
                               attributes: attributes(o, output: path, reader: reader, source: source, compression: vae.compressionRatio),
                               storage: o.storage, inputs: [o.model] + o.data)
        }
        writer?.requiredRange = EnsembleWriter.plausibleTemperature
        let weights = grid.areaWeights
        let ninoWeights = try Region.nino34.weights(on: grid)
        let bandMasks = bands.map { band in (0..<cells).map { band.1.contains(grid.latitudes[$0 / grid.longitudeCount]) ? weights[$0] : 0 } }
        var total = 0.0, bandTotals = [Double](repeating: 0, count: bands.count), ninoTotal = 0.0, correlations = 0.0
        do {
            for (i, m) in members.enumerated() {
                let original = try reader.readMember(m)
                let normalized = vae.normalization.normalize(original, monthsOfYear: months)
                let decoded = vae.decode(latents: vae.encode(normalizedFields: normalized, count: times), count: times)
                let reconstruction = vae.normalization.denormalize(decoded, monthsOfYear: months)
                try writer?.write(member: i, values: reconstruction)
                var ninoOriginal = [Double](repeating: 0, count: times), ninoReconstructed = ninoOriginal
                for t in 0..<times {
                    for c in 0..<cells {
                        let index = t * cells + c
                        let d = Double(reconstruction[index] - original[index])
                        total += weights[c] * d * d
                        for b in 0..<bands.count { bandTotals[b] += bandMasks[b][c] * d * d }
                        if ninoWeights[c] > 0 {
                            ninoTotal += ninoWeights[c] * d * d
                            let scale = Double(vae.normalization.scale[c])
                            ninoOriginal[t] += ninoWeights[c] * Double(normalized[index]) * scale
                            ninoReconstructed[t] += ninoWeights[c] * Double(decoded[index]) * scale
                        }
                    }
                }
                Statistics.removeLinearTrend(&ninoOriginal)
                Statistics.removeLinearTrend(&ninoReconstructed)
                correlations += Statistics.correlation(ninoOriginal, ninoReconstructed)
                progress?(i + 1, members.count)
            }
            try writer?.finish()
        } catch {
            writer?.cancel()
            throw error
        }
        let n = Double(members.count * times)
        let bandRMSE = zip(bands, zip(bandTotals, bandMasks)).map { band, pair in
            (band: band.0, rmse: (pair.0 / (n * pair.1.reduce(0, +))).squareRoot())
        }
        return Result(members: members, rmse: (total / n).squareRoot(), bandRMSE: bandRMSE,
                      nino34RMSE: (ninoTotal / n).squareRoot(), nino34Correlation: correlations / Double(members.count),
                      compressionRatio: vae.compressionRatio, output: o.output)
    }
}

extension ReconstructPipeline {
    /// The reconstruction's attributes: the data's scalar coordinates, `cell_measures`, common
    /// CMIP identity (`source_id`, `experiment_id` …: still the simulation reconstructed) and
    /// history, one line added (absolute paths, version, commit); the VAE's SHA-256.
    static func attributes(_ o: Options, output: String, reader: EnsembleReader, source: String, compression: Double) throws -> OutputAttributes {
        let kept: Set<String> = ["source_id", "experiment_id", "activity_id", "mip_era", "variant_label", "grid_label", "frequency", "license"]
        let (common, corrections) = reader.verifiedCommonGlobalAttributes
        let line = EnsembleGenVersion.historyLine(commandLine: o.commandLine, files: [o.model, output] + o.data,
                                                  note: corrections.isEmpty ? nil : corrections.joined(separator: "; "))
        let history = reader.globalAttributes.first?.first { $0.name == "history" }?.value.text
        var attributes = OutputAttributes(
            title: "VAE reconstruction of \(reader.variable.name)",
            institution: "",
            source: "EnsembleGen \(EnsembleGenVersion.string), VAE \(EnsembleGenVersion.absolutePath(o.model)) (compression \(String(format: "%.1f", compression)))",
            history: OutputAttributes.history(prepending: line, to: history),
            references: "Docs/models.md",
            comment: "Each field is decode(mean of q(z | field)) of \(source).",
            extra: EnsembleGenVersion.creationAttributes()
                + [("model_sha256", .text("\((o.model as NSString).lastPathComponent):\(try FileDigest.sha256(path: o.model))"))]
                + common.filter { kept.contains($0.name) })
        attributes.scalarCoordinates = reader.scalarCoordinates
        attributes.cellMeasures = reader.cellMeasures
        return attributes
    }
}

/// A trained VAE and the data it is applied to.
enum VAEData {
    /// The VAE at `vae`, a reader of `data` on its grid (the caller closes it), the data
    /// named for messages, and the members selected by `members` ("0-29"; nil: all).
    static func open(vae path: String, data: [String], variable: String?, members: String?) throws
        -> (vae: TrainedVAE, reader: EnsembleReader, source: String, members: [Int]) {
        try open(vae: TrainedVAE.load(path), data: data, variable: variable, members: members)
    }

    /// The same with the VAE of the model directory `model`.
    static func open(model: ModelDirectory, data: [String], variable: String?, members: String?) throws
        -> (vae: TrainedVAE, reader: EnsembleReader, source: String, members: [Int]) {
        try open(vae: model.vae(), data: data, variable: variable, members: members)
    }

    private static func open(vae: TrainedVAE, data: [String], variable: String?, members: String?) throws
        -> (vae: TrainedVAE, reader: EnsembleReader, source: String, members: [Int]) {
        let reader = try EnsembleReader(paths: data, variable: variable, requirements: .models)
        let source = data.joined(separator: ", ")
        do {
            try vae.checkData(reader, dataPath: source)
            let selected = try members.map { try MemberSelection.parse($0, count: reader.memberCount, file: source) }
                ?? Array(0..<reader.memberCount)
            return (vae, reader, source, selected)
        } catch {
            try? reader.close()
            throw error
        }
    }
}

extension MemberSelection {
    /// "0-29" style text for a list of member indices.
    public static func describe(_ members: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < members.count {
            var end = index
            while end + 1 < members.count && members[end + 1] == members[end] + 1 { end += 1 }
            parts.append(end > index ? "\(members[index])-\(members[end])" : "\(members[index])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}
