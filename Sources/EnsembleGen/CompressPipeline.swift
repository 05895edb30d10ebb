import Climate
import Compression
import Foundation
import NetCDF
import OutputFiles
import Tensor

/// `ensemblegen compress`: stores an ensemble file with every value within `maxError` of
/// the original, as codes of the file's own EOFs plus an entropy-coded residual
/// (Docs/compression.md).
public enum CompressPipeline {
    public struct Options: Sendable {
        public var input: String
        public var output: String
        public var variable: String?
        /// Largest allowed |original − decompressed| (K).
        public var maxError: Double
        /// Number of EOFs; nil searches it with the coefficient step.
        public var modes: Int?

        public init(input: String, output: String, variable: String? = nil, maxError: Double, modes: Int? = nil) {
            self.input = input; self.output = output; self.variable = variable
            self.maxError = maxError; self.modes = modes
        }
    }

    public struct Result: Sendable {
        public var members: Int
        public var timeSteps: Int
        public var inputBytes: Int64
        /// Bytes of float32 values (members × time steps × cells × 4).
        public var valueBytes: Int64
        public var outputBytes: Int64
        public var modes: Int
        public var coefficientStep: Float
        /// Largest and root-mean-square |original − decompressed| (K) over every value.
        public var maxError: Double
        public var rmsError: Double
        /// Values stored exactly because their code exceeded the cap.
        public var exactValues: Int
        public var bitsPerValue: Double { Double(outputBytes) * 8 / Double(valueBytes / 4) }
        public var output: String

        public var text: String {
            String(format: "%d members × %d time steps: %.2f bits per value, ratio %.1f to float32 (%.1f to the input file); max error %.4f K, RMS %.4f K; %d EOFs, coefficient step %g K; %d values stored exactly\nwrote %@",
                   members, timeSteps, bitsPerValue, Double(valueBytes) / Double(outputBytes), Double(inputBytes) / Double(outputBytes),
                   maxError, rmsError, modes, coefficientStep, exactValues, output)
        }
    }

    /// Progress steps: reading every member for the means and the EOF sample, fitting and
    /// searching the basis (one step), compressing every member.
    public static func steps(members: Int) -> Int { 2 * members + 1 }

    public static func run(_ o: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        guard o.maxError.isFinite, o.maxError >= CompressedEnsembleFormat.smallestMaxError else {
            throw EnsembleGenError(String(format: "--max-error %g K is below float32's resolution of temperatures (%.4f K, 16 steps at 400 K); store the file losslessly instead (e.g. nccopy -d 1 -s)", o.maxError, CompressedEnsembleFormat.smallestMaxError))
        }
        try OutputFile.checkDestination(o.output, inputs: [o.input])
        let reader = try EnsembleReader(paths: [o.input], variable: o.variable, requirements: .analysis)
        defer { try? reader.close() }
        let layout = reader.storedLayouts[0]
        let source = try NetCDFFile.open(o.input)
        defer { try? source.close() }
        guard let dataVariable = try source.variable(layout.variableName) else {
            throw EnsembleGenError("\(o.input): variable \(layout.variableName) disappeared")
        }
        let dataType: DataType = dataVariable.dataType.isFloatingPoint && !layout.isPacked ? dataVariable.dataType : .float
        let bound = o.maxError - CompressedEnsembleFormat.margin(maxError: o.maxError)
        let members = reader.memberCount, times = reader.timeCount, cells = reader.grid.cellCount
        let rows = reader.grid.latitudeCount, columns = reader.grid.longitudeCount
        let months = reader.time.monthsOfYear
        // A member is compressed whole: its values, prediction, residual and codes (~9 float32 copies).
        try reader.requireMemory(members: 1, copies: 9)
        let total = steps(members: members)

        let survey = try FieldSurvey(reader: reader) { progress?($0, total) }
        let plan = try BasisSearch.best(survey: survey, bound: bound, rows: rows, columns: columns, modes: o.modes)
        progress?(members + 1, total)
        let header = CompressedEnsembleHeader(
            variable: layout.variableName, variableIndex: Int(dataVariable.id), dimensions: layout.dimensionNames, dataType: dataType, layout: layout,
            maxError: o.maxError, quantiserBound: bound, modes: plan.basis.modes, coefficientStep: plan.basis.step, meanStep: plan.meanStep, members: members, times: times)

        var maxError = 0.0, squares = 0.0, exact = 0
        try NetCDFOutput.write(o.output, inputs: [o.input]) { f in
            let writer = try CompressedEnsembleWriter(file: f, source: source, dataVariable: dataVariable, layout: layout, header: header, plan: plan)
            for m in 0..<members {
                let original = try reader.readMember(m)
                let coded = try MemberCompressor.compress(original, plan: plan, months: months, bound: bound, rows: rows, columns: columns)
                // The compressor's own check of what decompression will produce.
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
                progress?(members + 2 + m, total)
            }
            try writer.finish()
        }
        let inputBytes = ((try? FileManager.default.attributesOfItem(atPath: o.input))?[.size] as? Int64) ?? 0
        let outputBytes = ((try? FileManager.default.attributesOfItem(atPath: o.output))?[.size] as? Int64) ?? 0
        return Result(members: members, timeSteps: times, inputBytes: inputBytes,
                      valueBytes: Int64(members) * Int64(times) * Int64(cells) * 4, outputBytes: outputBytes,
                      modes: plan.basis.modes, coefficientStep: plan.basis.step, maxError: maxError,
                      rmsError: (squares / Double(members * times * cells)).squareRoot(), exactValues: exact, output: o.output)
    }
}

/// What the compressor learns from a first pass over the file: the mean field of each month
/// of year, and sample fields (evenly spread over members and time) for the EOFs and for
/// choosing their number.
struct FieldSurvey {
    let cells: Int
    let fieldCount: Int
    /// [12 × cells] (K); months absent from the file stay 0.
    let means: [Double]
    /// Fields for the EOFs [fitCount × cells] and for the search [evaluationCount × cells] (K), with their months.
    let fitFields: [Float], fitMonths: [Int]
    let evaluationFields: [Float], evaluationMonths: [Int]

    /// At most this many fields go into the EOFs (memory and time grow with its square).
    static let largestFit = 2000

    init(reader: EnsembleReader, progress: (Int) -> Void) throws {
        let cells = reader.grid.cellCount, times = reader.timeCount, members = reader.memberCount
        let months = reader.time.monthsOfYear
        let n = members * times
        let fitCount = min(n, FieldSurvey.largestFit)
        let evaluationCount = min(n, max(48, min(240, 4_000_000 / cells)))
        let fitIndices = Set((0..<fitCount).map { Int((Double($0) + 0.5) * Double(n) / Double(fitCount)) })
        let evaluationIndices = Set((0..<evaluationCount).map { Int((Double($0) + 0.25) * Double(n) / Double(evaluationCount)) })
        var sums = [Double](repeating: 0, count: 12 * cells), counts = [Int](repeating: 0, count: 12)
        var fit: [Float] = [], fitMonths: [Int] = [], evaluation: [Float] = [], evaluationMonths: [Int] = []
        for m in 0..<members {
            let member = try reader.readMember(m)
            for t in 0..<times {
                let month = months[t] - 1, field = member[(t * cells)..<((t + 1) * cells)]
                counts[month] += 1
                for (p, v) in field.enumerated() { sums[month * cells + p] += Double(v) }
                if fitIndices.contains(m * times + t) { fit += field; fitMonths.append(months[t]) }
                if evaluationIndices.contains(m * times + t) { evaluation += field; evaluationMonths.append(months[t]) }
            }
            progress(m + 1)
        }
        self.cells = cells
        fieldCount = n
        means = (0..<(12 * cells)).map { counts[$0 / cells] > 0 ? sums[$0] / Double(counts[$0 / cells]) : 0 }
        fitFields = fit
        self.fitMonths = fitMonths
        evaluationFields = evaluation
        self.evaluationMonths = evaluationMonths
    }

    /// Fields minus `means` [12 × cells] of their month.
    func anomalies(_ fields: [Float], months: [Int], means: [Float]) -> [Float] {
        var a = fields
        for (f, m) in months.enumerated() {
            for p in 0..<cells { a[f * cells + p] -= means[(m - 1) * cells + p] }
        }
        return a
    }
}

/// The basis a file is compressed with, and how its coefficient codes are coded.
struct CompressionPlan {
    let basis: FieldBasis
    /// The basis's means as multiples of `meanStep` (K).
    let meanCodes: [Int32]
    let meanStep: Float
    /// Per mode: raw low bits and table class of the coefficient codes.
    let shifts: [UInt8]
    let classes: [UInt8]
    /// The search's estimate of the codes' size (bytes; 0 when not searched).
    var estimatedBytes = 0.0
}

/// The number of EOFs and the coefficient step that give the smallest file: more modes
/// and finer steps predict better (smaller residual codes) but cost more coefficient and
/// basis bits. Estimated on the survey's evaluation fields with the real quantisers and
/// code books' ideal code lengths.
enum BasisSearch {
    static let modeCandidates = [0, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024]
    /// Coefficient steps, in multiples of the residual's quantisation step 2·bound.
    static let stepCandidates: [Double] = [0.5, 1, 2, 4, 8]

    static func best(survey: FieldSurvey, bound: Double, rows: Int, columns: Int, modes: Int?) throws -> CompressionPlan {
        let cells = survey.cells
        let fitCount = survey.fitMonths.count
        // Means rounded to multiples of bound/8 (error RMS 0.036·bound), small beside the
        // residual even where the EOFs leave little (multiples of bound/2 measured 2% worse).
        let meanStep = Float(bound / 8)
        let means = FieldBasis.quantise(means: survey.means, step: meanStep)
        let largest = min(modes ?? modeCandidates.last!, fitCount / 2, cells)
        let eofs = try FieldBasis.principalPatterns(survey.anomalies(survey.fitFields, months: survey.fitMonths, means: means.means), count: fitCount,
                                                    cells: cells, maxModes: largest)
        let available = eofs.variances.count
        // Rounding the patterns may cost each prediction a small fraction of the residual step.
        let tolerance = 2 * bound / (4 * Double(max(available, 1)).squareRoot())
        let spreads = eofs.variances.map { $0.squareRoot() }
        let stored = FieldBasis.quantise(patterns: eofs.patterns, spreads: spreads, cells: cells, tolerance: tolerance)
        let basisBits = patternBits(stored.integers, modes: available, cells: cells)

        func plan(modes k: Int, step: Double) throws -> CompressionPlan {
            let basis = try FieldBasis(cells: cells, means: means.means, integers: Array(stored.integers[0..<(k * cells)]),
                                       scales: Array(stored.scales[0..<k]), step: Float(step))
            let layout = CoefficientCodeBook.layout(spread: spreads[0..<k].map { $0 / Double(basis.step) })
            return CompressionPlan(basis: basis, meanCodes: means.codes, meanStep: meanStep, shifts: layout.shifts, classes: layout.classes)
        }
        let modeChoices = modes.map { [min($0, available)] } ?? modeCandidates.filter { $0 <= available }
        var best: (plan: CompressionPlan, bits: Double)?
        let evaluated = survey.evaluationMonths.count
        let scale = Double(survey.fieldCount) / Double(evaluated)
        // The projections on all patterns, once: those on the first k are their first k columns.
        let projections = try survey.evaluationFields.withUnsafeBufferPointer {
            try plan(modes: available, step: 1).basis.projections($0, monthsOfYear: survey.evaluationMonths)
        }
        for k in modeChoices {
            let leading = (0..<(evaluated * k)).map { projections[($0 / k) * available + $0 % k] }
            for multiple in k == 0 ? [1] : stepCandidates {
                let candidate = try plan(modes: k, step: multiple * 2 * bound)
                let sample = try MemberCompressor.compress(survey.evaluationFields, plan: candidate, months: survey.evaluationMonths,
                                                           bound: bound, rows: rows, columns: columns,
                                                           codes: FieldBasis.codes(projections: leading, step: candidate.basis.step),
                                                           encode: false)
                let bits = sample.idealBits * scale + (k > 0 ? basisBits[k - 1] : 0)
                if best == nil || bits < best!.bits { best = (candidate, bits) }
            }
        }
        var plan = best!.plan
        plan.estimatedBytes = best!.bits / 8
        return plan
    }

    /// Cumulative bits of the stored patterns 0...i (zeroth-order entropy of each row's
    /// integers plus 10%: what deflate gets from them, roughly).
    static func patternBits(_ integers: [Int16], modes: Int, cells: Int) -> [Double] {
        var total = 0.0
        return (0..<modes).map { i in
            var counts: [Int16: Int] = [:]
            for v in integers[(i * cells)..<((i + 1) * cells)] { counts[v, default: 0] += 1 }
            let n = Double(cells)
            total += 1.1 * counts.values.reduce(0) { $0 - Double($1) * log2(Double($1) / n) }
            return total
        }
    }
}

/// One member compressed: per time step, the coefficient and residual streams and the
/// values stored exactly; the code books; and the reconstruction decompression will produce.
struct CompressedMember {
    var coefficientBook: CoefficientCodeBook
    var residualBook: ResidualCodeBook
    var coefficientStreams: [[UInt8]]
    var residualStreams: [[UInt8]]
    var exceptions: [[Float]]
    var reconstruction: [Float]
    /// Ideal code length of the coefficient and residual codes under the member's tables,
    /// plus 32 bits per exactly stored value (what the streams hold, within about 1%).
    var idealBits: Double
    var exceptionCount: Int { exceptions.reduce(0) { $0 + $1.count } }
}

enum MemberCompressor {
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

    /// The prediction x̂ [fields × cells] (K) of `codes` [fields × modes], in parallel over
    /// fields (each field's arithmetic does not depend on the split).
    static func predict(basis: FieldBasis, codes: [Int32], months: [Int]) -> [Float] {
        let cells = basis.cells, k = basis.modes, n = months.count
        var predicted = [Float](repeating: 0, count: n * cells)
        codes.withUnsafeBufferPointer { codes in
            predicted.withUnsafeMutableBufferPointer { out in
                let chunk = 32
                ComputeThreads.concurrently(jobs: (n + chunk - 1) / chunk) { worker, workers in
                    for j in stride(from: worker, to: (n + chunk - 1) / chunk, by: workers) {
                        let range = (j * chunk)..<min(n, (j + 1) * chunk)
                        basis.predict(UnsafeBufferPointer(rebasing: codes[(range.lowerBound * k)..<(range.upperBound * k)]),
                                      monthsOfYear: Array(months[range]),
                                      into: UnsafeMutableBufferPointer(rebasing: out[(range.lowerBound * cells)..<(range.upperBound * cells)]))
                    }
                }
            }
        }
        return predicted
    }

    /// Compresses fields [months.count × cells] (K) with their coefficient `codes` (nil:
    /// computed here); with `encode` false only the code lengths and reconstruction are
    /// computed, not the streams.
    static func compress(_ original: [Float], plan: CompressionPlan, months: [Int], bound: Double,
                         rows: Int, columns: Int, codes: [Int32]? = nil, encode: Bool = true) throws -> CompressedMember {
        let fields = months.count, cells = rows * columns, k = plan.basis.modes
        let codes = codes ?? original.withUnsafeBufferPointer { plan.basis.codes($0, monthsOfYear: months) }
        let predicted = predict(basis: plan.basis, codes: codes, months: months)
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
        for i in 0..<symbols.count { counts[Int(contexts[i])][Int(symbols[i])] += 1 }
        let residualBook = try ResidualCodeBook(quantiser: quantiser, classes: classes, counts: counts)
        let coefficientBook = try CoefficientCodeBook(shifts: plan.shifts, classes: plan.classes, fittedTo: codes)

        let escape = UInt16(quantiser.escape)
        var exceptions = [[Float]](repeating: [], count: fields)
        var reconstruction = [Float](repeating: 0, count: original.count)
        for i in 0..<original.count {
            if symbols[i] == escape {
                exceptions[i / cells].append(original[i])
                reconstruction[i] = original[i]
            } else {
                reconstruction[i] = Float(Double(predicted[i]) + rebuilt[i])
            }
        }
        var bits = 32 * Double(exceptions.reduce(0) { $0 + $1.count }) + coefficientBook.bits(codes)
        for (context, row) in counts.enumerated() {
            for (symbol, n) in row.enumerated() where n > 0 { bits += residualBook.tables[context].bits(symbol: symbol, count: n) }
        }
        var residualStreams = [[UInt8]](repeating: [], count: encode ? fields : 0)
        var coefficientStreams = [[UInt8]](repeating: [], count: encode ? fields : 0)
        if encode {
            for t in 0..<fields { coefficientStreams[t] = coefficientBook.encode(codes[(t * k)..<((t + 1) * k)]) }
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
        }
        return CompressedMember(coefficientBook: coefficientBook, residualBook: residualBook, coefficientStreams: coefficientStreams,
                                residualStreams: residualStreams, exceptions: exceptions, reconstruction: reconstruction, idealBits: bits)
    }
}
