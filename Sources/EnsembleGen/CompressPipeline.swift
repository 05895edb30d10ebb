import Climate
import Compression
import Foundation
import Models
import NetCDF
import OutputFiles
import Tensor

/// `ensemblegen compress`: stores an ensemble file with every value within `maxError` of
/// the original, as VAE latents plus an entropy-coded residual (Docs/compression.md).
public enum CompressPipeline {
    public struct Options: Sendable {
        public var input: String
        public var output: String
        /// VAE file or model directory on the data's grid.
        public var model: String
        public var variable: String?
        /// Largest allowed |original − decompressed| (K).
        public var maxError: Double
        /// Latent quantisation step; nil searches it on the first member.
        public var latentStep: Float?

        public init(input: String, output: String, model: String, variable: String? = nil, maxError: Double, latentStep: Float? = nil) {
            self.input = input; self.output = output; self.model = model; self.variable = variable
            self.maxError = maxError; self.latentStep = latentStep
        }
    }

    public struct Result: Sendable {
        public var members: Int
        public var timeSteps: Int
        public var inputBytes: Int64
        /// Bytes of float32 values (members × time steps × cells × 4).
        public var valueBytes: Int64
        public var outputBytes: Int64
        public var latentStep: Float
        /// Largest and root-mean-square |original − decompressed| (K) over every value.
        public var maxError: Double
        public var rmsError: Double
        /// Values stored exactly because their code exceeded the cap.
        public var exactValues: Int
        public var bitsPerValue: Double { Double(outputBytes) * 8 / Double(valueBytes / 4) }
        public var output: String

        public var text: String {
            String(format: "%d members × %d time steps: %.2f bits per value, ratio %.1f to float32 (%.1f to the input file); max error %.4f K, RMS %.4f K; latent step %g; %d values stored exactly\nwrote %@",
                   members, timeSteps, bitsPerValue, Double(valueBytes) / Double(outputBytes), Double(inputBytes) / Double(outputBytes),
                   maxError, rmsError, latentStep, exactValues, output)
        }
    }

    public static func run(_ o: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        guard o.maxError.isFinite, o.maxError >= CompressedEnsembleFormat.smallestMaxError else {
            throw EnsembleGenError(String(format: "--max-error %g K is below float32's resolution of temperatures (%.4f K, 16 steps at 400 K); store the file losslessly instead (e.g. nccopy -d 1 -s)", o.maxError, CompressedEnsembleFormat.smallestMaxError))
        }
        let vaePath = try DefaultModel.vaePath(o.model)
        try OutputFile.checkDestination(o.output, inputs: [o.input, vaePath])
        let vae = try TrainedVAE.load(vaePath)
        let reader = try EnsembleReader(paths: [o.input], variable: o.variable, requirements: .models)
        defer { try? reader.close() }
        try vae.checkData(reader, dataPath: o.input)
        let layout = reader.storedLayouts[0]
        let source = try NetCDFFile.open(o.input)
        defer { try? source.close() }
        guard let dataVariable = try source.variable(layout.variableName) else {
            throw EnsembleGenError("\(o.input): variable \(layout.variableName) disappeared")
        }
        let dataType: DataType = dataVariable.dataType.isFloatingPoint && !layout.isPacked ? dataVariable.dataType : .float
        let bound = o.maxError - CompressedEnsembleFormat.margin(maxError: o.maxError)
        let members = reader.memberCount, times = reader.timeCount, cells = reader.grid.cellCount
        let months = reader.time.monthsOfYear
        // A member is compressed whole: its values, prediction, residual and codes (~9 float32 copies).
        try reader.requireMemory(members: 1, copies: 9)

        // The latent step: searched on the first member's first decade unless given.
        let step = try o.latentStep ?? LatentStepSearch.best(vae: vae, fields: try reader.readMember(0, times: 0..<min(times, 120)),
                                                             months: Array(months.prefix(min(times, 120))), bound: bound)
        let sha = try FileDigest.sha256(path: vaePath)
        let header = CompressedEnsembleHeader(
            variable: layout.variableName, variableIndex: Int(dataVariable.id), dimensions: layout.dimensionNames, dataType: dataType, layout: layout,
            maxError: o.maxError, quantiserBound: bound, latentStep: step, latentDimension: vae.latentDimension,
            members: members, times: times, modelSHA256: sha, model: EnsembleGenVersion.absolutePath(o.model))

        var maxError = 0.0, squares = 0.0, exact = 0
        try NetCDFOutput.write(o.output, inputs: [o.input, vaePath]) { f in
            let writer = try CompressedEnsembleWriter(file: f, source: source, dataVariable: dataVariable, layout: layout, header: header)
            for m in 0..<members {
                let original = try reader.readMember(m)
                let coded = try MemberCompressor.compress(original, vae: vae, months: months, step: step, bound: bound,
                                                          rows: reader.grid.latitudeCount, columns: reader.grid.longitudeCount)
                // The compressor's own check of what decompression will produce on this machine.
                for k in 0..<original.count {
                    let d = abs(Double(original[k]) - Double(coded.reconstruction[k]))
                    maxError = max(maxError, d)
                    squares += d * d
                }
                guard maxError <= o.maxError else {
                    throw EnsembleGenError(String(format: "%@: internal error: member %d reconstructs with error %g K > --max-error %g K; nothing written", o.input, m, maxError, o.maxError))
                }
                exact += coded.exceptionCount
                try writer.write(member: m, coded)
                progress?(m + 1, members)
            }
        }
        let inputBytes = ((try? FileManager.default.attributesOfItem(atPath: o.input))?[.size] as? Int64) ?? 0
        let outputBytes = ((try? FileManager.default.attributesOfItem(atPath: o.output))?[.size] as? Int64) ?? 0
        return Result(members: members, timeSteps: times, inputBytes: inputBytes,
                      valueBytes: Int64(members) * Int64(times) * Int64(cells) * 4, outputBytes: outputBytes,
                      latentStep: step, maxError: maxError, rmsError: (squares / Double(members * times * cells)).squareRoot(),
                      exactValues: exact, output: o.output)
    }
}

/// One member compressed: per time step, the latent and residual streams and the values
/// stored exactly; the code books; and the reconstruction decompression will produce.
struct CompressedMember {
    var latentBook: LatentCodeBook
    var residualBook: ResidualCodeBook
    var latentStreams: [[UInt8]]
    var residualStreams: [[UInt8]]
    var exceptions: [[Float]]
    var reconstruction: [Float]
    var exceptionCount: Int { exceptions.reduce(0) { $0 + $1.count } }
}

enum MemberCompressor {
    /// The prediction x̂ [times, cells] (K) from latent codes [times, D].
    static func prediction(vae: TrainedVAE, codes: [Int32], step: Float, months: [Int]) -> [Float] {
        let latents = LatentCodeBook.values(codes, step: step)
        return vae.normalization.denormalize(vae.decode(latents: latents, count: months.count), monthsOfYear: months)
    }

    /// Latent codes [times, D] of fields [times, cells] (K).
    static func latentCodes(vae: TrainedVAE, fields: [Float], months: [Int], step: Float) -> [Int32] {
        let normalized = vae.normalization.normalize(fields, monthsOfYear: months)
        return LatentCodeBook.codes(vae.encode(normalizedFields: normalized, count: months.count), step: step)
    }

    /// Residual symbols and contexts of every field, quantised in parallel; `reconstruction`
    /// receives r̃.
    static func quantise(residual: [Double], quantiser: ResidualQuantiser, classes: [UInt8], fields: Int, rows: Int, columns: Int,
                         symbols: inout [UInt16], contexts: inout [UInt8], reconstruction: inout [Double]) {
        let cells = rows * columns
        residual.withUnsafeBufferPointer { r in
          classes.withUnsafeBufferPointer { classes in
            symbols.withUnsafeMutableBufferPointer { s in
                contexts.withUnsafeMutableBufferPointer { c in
                    reconstruction.withUnsafeMutableBufferPointer { out in
                        ComputeThreads.concurrently(jobs: fields) { worker, workers in
                            var magnitudes = [Int32](repeating: 0, count: cells)
                            magnitudes.withUnsafeMutableBufferPointer { mags in
                                for t in stride(from: worker, to: fields, by: workers) {
                                    let range = (t * cells)..<((t + 1) * cells)
                                    quantiser.quantise(UnsafeBufferPointer(rebasing: r[range]), rows: rows, columns: columns, classes: classes,
                                                       symbols: UnsafeMutableBufferPointer(rebasing: s[range]),
                                                       contexts: UnsafeMutableBufferPointer(rebasing: c[range]),
                                                       reconstruction: UnsafeMutableBufferPointer(rebasing: out[range]), magnitudes: mags)
                                }
                            }
                        }
                    }
                }
            }
          }
        }
    }

    static func compress(_ original: [Float], vae: TrainedVAE, months: [Int], step: Float, bound: Double,
                         rows: Int, columns: Int) throws -> CompressedMember {
        let fields = months.count, cells = rows * columns, d = vae.latentDimension
        let codes = latentCodes(vae: vae, fields: original, months: months, step: step)
        let predicted = prediction(vae: vae, codes: codes, step: step, months: months)
        let residual = (0..<original.count).map { Double(original[$0]) - Double(predicted[$0]) }
        let coefficients = residual.withUnsafeBufferPointer {
            ResidualQuantiser.fitCoefficients($0, fields: fields, rows: rows, columns: columns)
        }
        let classes = residual.withUnsafeBufferPointer { ResidualQuantiser.cellClasses($0, fields: fields, cells: cells) }
        var quantiser = try ResidualQuantiser(bound: bound, coefficients: coefficients, cap: ResidualQuantiser.maximumCap)
        var symbols = [UInt16](repeating: 0, count: original.count), contexts = [UInt8](repeating: 0, count: original.count)
        var rebuilt = [Double](repeating: 0, count: original.count)
        quantise(residual: residual, quantiser: quantiser, classes: classes, fields: fields, rows: rows, columns: columns,
                 symbols: &symbols, contexts: &contexts, reconstruction: &rebuilt)
        let cap = symbols.withUnsafeBufferPointer { quantiser.largestCode($0) }
        quantiser = try symbols.withUnsafeMutableBufferPointer { try quantiser.narrowed(to: cap, symbols: $0) }
        var counts = [[Int]](repeating: [Int](repeating: 0, count: quantiser.alphabet), count: ResidualQuantiser.contextCount)
        for k in 0..<symbols.count { counts[Int(contexts[k])][Int(symbols[k])] += 1 }
        let residualBook = try ResidualCodeBook(quantiser: quantiser, classes: classes, counts: counts)
        let latentBook = try LatentCodeBook(step: step, fittedTo: codes)

        var residualStreams = [[UInt8]](repeating: [], count: fields)
        var latentStreams = [[UInt8]](repeating: [], count: fields)
        let escape = UInt16(quantiser.escape)
        var exceptions = [[Float]](repeating: [], count: fields)
        var reconstruction = [Float](repeating: 0, count: original.count)
        for t in 0..<fields {
            latentStreams[t] = latentBook.encode(codes[(t * d)..<((t + 1) * d)])
        }
        symbols.withUnsafeBufferPointer { s in
            contexts.withUnsafeBufferPointer { c in
                residualStreams.withUnsafeMutableBufferPointer { streams in
                    ComputeThreads.concurrently(jobs: fields) { worker, workers in
                        for t in stride(from: worker, to: fields, by: workers) {
                            let range = (t * cells)..<((t + 1) * cells)
                            streams[t] = residualBook.encode(symbols: UnsafeBufferPointer(rebasing: s[range]),
                                                             contexts: UnsafeBufferPointer(rebasing: c[range]))
                        }
                    }
                }
            }
        }
        for k in 0..<original.count {
            if symbols[k] == escape {
                exceptions[k / cells].append(original[k])
                reconstruction[k] = original[k]
            } else {
                reconstruction[k] = Float(Double(predicted[k]) + rebuilt[k])
            }
        }
        return CompressedMember(latentBook: latentBook, residualBook: residualBook, latentStreams: latentStreams,
                                residualStreams: residualStreams, exceptions: exceptions, reconstruction: reconstruction)
    }
}

/// The latent quantisation step that gives the smallest file for sample fields: coarser
/// latents cost fewer bits but predict worse, so the residual costs more.
enum LatentStepSearch {
    static let candidates: [Float] = (-2...6).map { Float(pow(2, -Double($0))) }

    static func best(vae: TrainedVAE, fields: [Float], months: [Int], bound: Double) throws -> Float {
        let grid = vae.grid
        let rows = grid.latitudeCount, columns = grid.longitudeCount
        var best: (step: Float, bits: Double)?
        for step in candidates {
            let member = try MemberCompressor.compress(fields, vae: vae, months: months, step: step, bound: bound, rows: rows, columns: columns)
            let bytes = member.latentStreams.reduce(0) { $0 + $1.count } + member.residualStreams.reduce(0) { $0 + $1.count }
                + 4 * member.exceptionCount
            let bits = Double(bytes) * 8
            if best == nil || bits < best!.bits { best = (step, bits) }
        }
        return best!.step
    }
}
