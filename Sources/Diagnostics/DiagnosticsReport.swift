import Foundation
import Climate

/// Settings shared by every diagnostic.
public struct DiagnosticOptions: Sendable {
    /// Years of the Niño3.4 (and regression) climatology; all years when nil.
    public var basePeriod: ClosedRange<Int>?
    /// Removal of the forced signal from the Niño3.4 index after the climatology.
    public var ninoDetrending: IndexDetrending
    /// Welch segment length in months (40 years by default); annual data use the same
    /// number of years (480 months → 40 annual steps).
    public var spectrumSegmentMonths: Int
    /// Periods (years) searched for the spectral peak.
    public var peakBand: ClosedRange<Double>
    /// Eruptions for the volcanic composites.
    public var eruptions: [Eruption]
    /// Composite window in months around each eruption (annual data: the whole years it spans).
    public var compositeWindow: ClosedRange<Int>
    /// Number of EOFs kept.
    public var eofModeCount: Int
    /// Verification scores use every `verificationTimeStride`-th time step (1 = all).
    public var verificationTimeStride: Int
    /// Optional land mask (true = land), count `cellCount`, row-major (lat, lon): gives
    /// land/ocean means of the autocorrelation and the outline drawn on maps.
    public var landMask: [Bool]?

    public init(basePeriod: ClosedRange<Int>? = nil, ninoDetrending: IndexDetrending = .linear,
                spectrumSegmentMonths: Int = 480, peakBand: ClosedRange<Double> = 1...10,
                eruptions: [Eruption] = Eruption.majorEruptions, compositeWindow: ClosedRange<Int> = -12...48,
                eofModeCount: Int = 10, verificationTimeStride: Int = 1, landMask: [Bool]? = nil) {
        self.basePeriod = basePeriod; self.ninoDetrending = ninoDetrending
        self.spectrumSegmentMonths = spectrumSegmentMonths; self.peakBand = peakBand
        self.eruptions = eruptions; self.compositeWindow = compositeWindow
        self.eofModeCount = eofModeCount; self.verificationTimeStride = verificationTimeStride; self.landMask = landMask
    }
}

/// Area means of the grid-point autocorrelation maps.
public struct AutocorrelationSummary: Codable, Sendable, Equatable {
    /// Area-weighted mean over valid cells of the lag-1-step autocorrelation (1 month, or
    /// 1 year for annual data) and of the lag-12-month one (nil for annual data).
    public var lag1: Double
    public var lag12: Double?
    /// The same over land and ocean cells (nil without a land mask; lag 12 also for annual data).
    public var lag1Land: Double?
    public var lag1Ocean: Double?
    public var lag12Land: Double?
    public var lag12Ocean: Double?
}

extension AutocorrelationSummary {
    /// `lag12` is always written (null for annual data, which cannot give it); the land and
    /// ocean means only with a land mask.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lag1, forKey: .lag1); try c.encode(lag12, forKey: .lag12)
        try c.encodeIfPresent(lag1Land, forKey: .lag1Land); try c.encodeIfPresent(lag1Ocean, forKey: .lag1Ocean)
        try c.encodeIfPresent(lag12Land, forKey: .lag12Land); try c.encodeIfPresent(lag12Ocean, forKey: .lag12Ocean)
    }
}

/// The JSON-encoded part of a diagnostics report (keys are the property names).
public struct DiagnosticsSummary: Codable, Sendable, Equatable {
    public var name: String
    public var memberCount: Int
    /// Number of time steps, in `timeStep` units.
    public var timeCount: Int
    /// "month" or "year": the sampling of the data, and the unit of lags and counts.
    public var timeStep: TimeStepUnit
    /// e.g. "32×64 (5.62°×5.62°)".
    public var grid: String
    public var firstYear: Int
    public var lastYear: Int
    /// Climatology years of the Niño3.4 index as [first, last], nil = whole record.
    public var basePeriod: [Int]?
    public var ninoDetrending: IndexDetrending
    public var globalMean: GlobalMeanSummary
    public var nino34: NinoStatistics
    /// Per-eruption composites of the global mean followed by the mean over eruptions.
    public var volcanic: [EpochComposite]
    public var autocorrelation: AutocorrelationSummary
    /// Leading EOF variance fractions (area-weighted internal-variability anomalies).
    public var eofVarianceFractions: [Double]
    /// Total area-weighted internal variance (unit²).
    public var eofTotalVariance: Double
}

/// Maps (row-major lat × lon, count cellCount, NaN = missing) kept for figures and comparisons.
public struct DiagnosticMaps: Sendable {
    /// Regression of grid-point anomalies on the Niño3.4 index (unit per unit of index, K/K).
    public var ensoRegression: [Double]
    /// Lag-1-step and lag-12-month (nil for annual data) autocorrelation of internal anomalies.
    public var lag1: [Double]
    public var lag12: [Double]?
    /// All EOFs computed.
    public var eof: EOFResult
}

/// Diagnostics of one ensemble.
public struct DiagnosticsReport: Sendable {
    /// Numbers written to JSON and markdown.
    public var summary: DiagnosticsSummary
    public var maps: DiagnosticMaps
    /// Niño3.4 index of every member (order member, time), field unit.
    public var ninoIndex: MemberSeries
    /// Global mean of every member at every time step (order member, time), field unit.
    public var globalMeanSeries: [Double]
    public var grid: Grid
    public var landMask: [Bool]?

    /// JSON of `summary` (pretty-printed, sorted keys; a non-finite number is written as null).
    public func json() throws -> Data { try DiagnosticsJSON.encode(summary) }
}

/// Entry point: every single-ensemble diagnostic.
public enum EnsembleDiagnostics {
    /// Computes GMST, Niño3.4 statistics and regression map, volcanic composites,
    /// lag-1/lag-12 autocorrelation and EOFs of `fields` (field unit, normally K). Monthly
    /// or annual fields: with annual fields everything is in years (spectrum sampled once a
    /// year, composites in years after the eruption, lag 1 = 1 year) and the metrics of
    /// `MonthlyOnlyMetrics` are nil.
    public static func compute(_ fields: EnsembleFields, options: DiagnosticOptions = DiagnosticOptions()) throws -> DiagnosticsReport {
        if let mask = options.landMask, mask.count != fields.cellCount {
            throw DiagnosticsError.shape("land mask has \(mask.count) cells, grid \(fields.grid.summary) has \(fields.cellCount)")
        }
        let gmst = fields.globalMean()
        let detrending: IndexDetrending = fields.memberCount < 2 && options.ninoDetrending == .ensembleMean ? .linear : options.ninoDetrending
        let index = try ENSO.nino34Index(fields, basePeriod: options.basePeriod, detrending: detrending)
        let nino = try ENSO.statistics(of: index, monthsOfYear: fields.monthsOfYear, stepsPerYear: fields.stepsPerYear,
                                       segmentLength: max(options.spectrumSegmentMonths * fields.stepsPerYear / 12, 4),
                                       peakBand: options.peakBand)
        let regression = ENSO.regressionMap(fields, on: index, basePeriod: options.basePeriod)
        let volcanic = try VolcanicComposite.composites(series: gmst, memberCount: fields.memberCount,
                                                        monthsOfYear: fields.monthsOfYear, years: fields.years,
                                                        stepsPerYear: fields.stepsPerYear,
                                                        eruptions: options.eruptions, window: options.compositeWindow)
        let ac = Autocorrelation.maps(fields, lags: fields.isAnnual ? [1] : [1, 12])
        let lag12 = ac.count > 1 ? ac[1] : nil
        let eof = try EOF.analyze(fields, modeCount: options.eofModeCount)
        let w = fields.grid.areaWeights
        func areaMean(_ map: [Double], _ include: (Int) -> Bool) -> Double? {
            var s = 0.0, sw = 0.0
            for c in map.indices where include(c) && map[c].isFinite { s += w[c] * map[c]; sw += w[c] }
            return sw > 0 ? s / sw : nil
        }
        let mask = options.landMask
        let acSummary = AutocorrelationSummary(
            lag1: areaMean(ac[0], { _ in true }) ?? .nan, lag12: lag12.flatMap { areaMean($0, { _ in true }) },
            lag1Land: mask.flatMap { m in areaMean(ac[0], { m[$0] }) }, lag1Ocean: mask.flatMap { m in areaMean(ac[0], { !m[$0] }) },
            lag12Land: mask.flatMap { m in lag12.flatMap { areaMean($0, { m[$0] }) } },
            lag12Ocean: mask.flatMap { m in lag12.flatMap { areaMean($0, { !m[$0] }) } })
        let summary = DiagnosticsSummary(
            name: fields.name, memberCount: fields.memberCount, timeCount: fields.timeCount, timeStep: fields.stepUnit,
            grid: fields.grid.summary,
            firstYear: fields.years.first ?? 0, lastYear: fields.years.last ?? 0,
            basePeriod: options.basePeriod.map { [$0.lowerBound, $0.upperBound] }, ninoDetrending: detrending,
            globalMean: GlobalMeanSummary.make(globalMeans: gmst, memberCount: fields.memberCount,
                                               months: fields.monthsOfYear, years: fields.years, stepsPerYear: fields.stepsPerYear),
            nino34: nino, volcanic: volcanic, autocorrelation: acSummary,
            eofVarianceFractions: eof.varianceFractions, eofTotalVariance: eof.totalVariance)
        return DiagnosticsReport(summary: summary,
                                 maps: DiagnosticMaps(ensoRegression: regression, lag1: ac[0], lag12: lag12, eof: eof),
                                 ninoIndex: index, globalMeanSeries: gmst, grid: fields.grid, landMask: options.landMask)
    }
}

/// The JSON of the reports: valid JSON, so a number that is not finite is written as null.
enum DiagnosticsJSON {
    /// JSONEncoder can only write non-finite numbers as strings: it writes this marker,
    /// which is then replaced by null. The quotes make it match whole string values only.
    private static let marker = "\"non-finite-7f3c9a2e-ensemblegen\""

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        let m = String(marker.dropFirst().dropLast())
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: m, negativeInfinity: m, nan: m)
        let text = String(decoding: try e.encode(value), as: UTF8.self)
        return Data(text.replacingOccurrences(of: marker, with: "null").utf8)
    }
}

/// Number formatting for the markdown reports.
enum Fmt {
    static func num(_ x: Double?, _ digits: Int = 3) -> String {
        guard let x, x.isFinite else { return "–" }
        if x != 0 && (abs(x) < 1e-3 || abs(x) >= 1e5) { return String(format: "%.\(digits)e", x) }
        return String(format: "%.\(digits)f", x)
    }
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var s = "| " + header.joined(separator: " | ") + " |\n"
        s += "|" + header.map { _ in " --- |" }.joined() + "\n"
        for r in rows { s += "| " + r.joined(separator: " | ") + " |\n" }
        return s
    }
}

extension DiagnosticsSummary {
    /// True for annual data.
    public var isAnnual: Bool { timeStep == .year }

    /// "0.85 K per century over 1850–2014" (the years of the annual means), nil when the
    /// trend could not be computed (fewer than 3 whole years).
    public var trendText: String? {
        guard let t = globalMean.trendPerCentury, t.isFinite, let y0 = globalMean.years.first, let y1 = globalMean.years.last else { return nil }
        return String(format: "%.2f K per century over %d–%d", t, y0, y1)
    }

    /// The spectral resolution of annual data (nil for monthly data): the Nyquist frequency
    /// from the spectrum's own frequencies and what it means for the ENSO band.
    public var spectrumNote: String? {
        guard isAnnual, let nyquist = nino34.spectrum.frequencies.last, nyquist > 0 else { return nil }
        return String(format: "annual sampling resolves periods of %.0f years and longer (Nyquist %.1f cycles/yr), so the ENSO band (2–7 years) is only partly resolved",
                      1 / nyquist, nyquist)
    }

    /// The spectral peak, "3.8 years", or why there is none.
    public var peakText: String {
        nino34.peakPeriodYears.isFinite ? String(format: "%.1f years", nino34.peakPeriodYears) : "none (no resolved period in the search band)"
    }

    /// Pinatubo-style cooling: largest ensemble-mean cooling of eruption `name` within two
    /// years after it: `value` the peak anomaly (< 0 is cooling), `text` the cooling as a
    /// positive number, "0.31 K at +14 months"; nil when the eruption is not in the record.
    public func peakCooling(eruption name: String) -> (value: Double, lag: Int, text: String)? {
        guard let c = volcanic.first(where: { $0.name.localizedCaseInsensitiveContains(name) }), c.peakAnomaly.isFinite else { return nil }
        return (c.peakAnomaly, c.peakLag, String(format: "%.2f K at +", -c.peakAnomaly) + c.lagUnit.count(c.peakLag))
    }
}

extension DiagnosticsReport {
    /// A markdown document with every number of the summary.
    public var markdown: String { markdown(headingLevel: 1) }

    /// The markdown with its top heading at `headingLevel` (1 = "#").
    public func markdown(headingLevel: Int) -> String {
        let s = summary
        let h1 = String(repeating: "#", count: max(1, headingLevel)), h2 = h1 + "#"
        var md = "\(h1) Diagnostics: \(s.name)\n\n"
        md += "\(s.memberCount) members × \(s.timeStep.count(s.timeCount)) (\(s.firstYear)–\(s.lastYear)), grid \(s.grid). "
        md += "Niño3.4 climatology: \(s.basePeriod.map { "\($0[0])–\($0[1])" } ?? "whole record"), detrending: \(s.ninoDetrending.rawValue).\n\n"
        if s.isAnnual { md += MonthlyOnlyMetrics.line + "\n\n" }
        md += "\(h2) Global mean\n\n"
        md += s.trendText.map { "Ensemble-mean trend: \($0).\n\n" } ?? "Ensemble-mean trend: not computed (fewer than 3 whole years).\n\n"
        md += "\(h2) Niño3.4\n\n"
        md += Fmt.table(["statistic", "value"], [
            ["standard deviation (K)", Fmt.num(s.nino34.standardDeviation)],
            ["skewness", Fmt.num(s.nino34.skewness)],
            ["spectral peak period (years)", Fmt.num(s.nino34.peakPeriodYears, 2)],
            ["Welch segments (length in \(s.timeStep.plural))", "\(s.nino34.spectrum.segmentCount) (\(s.nino34.spectrum.segmentLength))"],
        ])
        if let note = s.spectrumNote { md += "\nSpectrum: \(note).\n" }
        if let byMonth = s.nino34.standardDeviationByMonth {
            md += "\nStandard deviation by calendar month (K):\n\n"
            md += Fmt.table(["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"], [byMonth.map { Fmt.num($0, 2) }])
        }
        let before = s.isAnnual ? "the year before" : "the 12 months before"
        md += "\n\(h2) Volcanic composites (global mean, K, relative to \(before))\n\n"
        md += s.volcanic.isEmpty ? "No eruption window (\(s.isAnnual ? "1 year before to 4 years after" : "12 months before to 48 months after")) lies inside \(s.firstYear)–\(s.lastYear).\n" :
            Fmt.table(["eruption", "peak anomaly (K)", "lag (\(s.timeStep.plural))"], s.volcanic.map { [$0.name, Fmt.num($0.peakAnomaly), "\($0.peakLag)"] })
        md += "\n\(h2) Autocorrelation of internal anomalies (area-weighted mean)\n\n"
        let a = s.autocorrelation
        var rows = [["1 \(s.timeStep.rawValue)", Fmt.num(a.lag1), Fmt.num(a.lag1Land), Fmt.num(a.lag1Ocean)]]
        if let l12 = a.lag12 { rows.append(["12 months", Fmt.num(l12), Fmt.num(a.lag12Land), Fmt.num(a.lag12Ocean)]) }
        md += Fmt.table(["lag", "global", "land", "ocean"], rows)
        md += "\n\(h2) EOFs\n\nExplained variance fractions: " + s.eofVarianceFractions.prefix(5).map { Fmt.num($0) }.joined(separator: ", ")
        md += " (total variance \(Fmt.num(s.eofTotalVariance)) K²).\n"
        return md
    }
}
