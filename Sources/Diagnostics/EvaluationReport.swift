import Foundation
import Climate

/// Correlation of members' Niño3.4 with the conditioning member's.
public struct ConditioningCorrelation: Codable, Sendable, Equatable {
    /// Pearson correlation of each member's index with the conditioning member's index.
    public var perMember: [Double]
    public var mean: Double
    public var minimum: Double
    public var maximum: Double
    /// 1.96/√N_eff: the 95% range of a correlation between independent series, N_eff from
    /// the lag-1 autocorrelations ρ_a, ρ_b (Bretherton et al. 1999): N(1 − ρ_aρ_b)/(1 + ρ_aρ_b).
    public var independenceBound95: Double
}

/// ENSO statistics of a candidate beside the reference.
public struct NinoComparison: Codable, Sendable, Equatable {
    /// Candidate / reference Niño3.4 standard deviation.
    public var standardDeviationRatio: Double
    public var skewness: Double
    public var referenceSkewness: Double
    public var peakPeriodYears: Double
    public var referencePeakPeriodYears: Double
    /// RMS over the 12 calendar months of the difference in standard deviation (K); nil
    /// for annual data.
    public var standardDeviationByMonthRMSE: Double?
    /// Centred area-weighted pattern correlation of the ENSO regression maps.
    public var regressionPatternCorrelation: Double
    /// nil when no conditioning member was given.
    public var conditioningCorrelation: ConditioningCorrelation?
}

extension NinoComparison {
    /// `standardDeviationByMonthRMSE` is always written (null for annual data);
    /// `conditioningCorrelation` only when a conditioning member was given.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(standardDeviationRatio, forKey: .standardDeviationRatio)
        try c.encode(skewness, forKey: .skewness); try c.encode(referenceSkewness, forKey: .referenceSkewness)
        try c.encode(peakPeriodYears, forKey: .peakPeriodYears); try c.encode(referencePeakPeriodYears, forKey: .referencePeakPeriodYears)
        try c.encode(standardDeviationByMonthRMSE, forKey: .standardDeviationByMonthRMSE)
        try c.encode(regressionPatternCorrelation, forKey: .regressionPatternCorrelation)
        try c.encodeIfPresent(conditioningCorrelation, forKey: .conditioningCorrelation)
    }
}

/// Variability statistics of a candidate beside the reference.
public struct VariabilityComparison: Codable, Sendable, Equatable {
    /// RMS over lags (−12…48 months, −1…4 years for annual data) of the difference of the ensemble-mean volcanic composite
    /// (mean over eruptions) from the reference's (K). nil when no eruption fits.
    public var volcanicCompositeRMSE: Double?
    /// Candidate and reference peak cooling of the composite (K).
    public var volcanicPeak: Double?
    public var referenceVolcanicPeak: Double?
    /// Area-weighted mean lag-1-step (1 month, or 1 year for annual data) and lag-12-month
    /// (nil for annual data) autocorrelation, candidate and reference.
    public var lag1: Double
    public var referenceLag1: Double
    public var lag12: Double?
    public var referenceLag12: Double?
    /// Centred pattern correlation of the lag-1 maps.
    public var lag1PatternCorrelation: Double
    /// |uncentred area-weighted pattern correlation| of EOF 1 and EOF 2 with the reference's.
    public var eof1PatternCorrelation: Double
    public var eof2PatternCorrelation: Double
    public var eofVarianceFractions: [Double]
    public var referenceEofVarianceFractions: [Double]
}

extension VariabilityComparison {
    /// `lag12` and `referenceLag12` are always written (null for annual data); the volcanic
    /// values only when an eruption window lies inside the record.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(volcanicCompositeRMSE, forKey: .volcanicCompositeRMSE)
        try c.encodeIfPresent(volcanicPeak, forKey: .volcanicPeak)
        try c.encodeIfPresent(referenceVolcanicPeak, forKey: .referenceVolcanicPeak)
        try c.encode(lag1, forKey: .lag1); try c.encode(referenceLag1, forKey: .referenceLag1)
        try c.encode(lag12, forKey: .lag12); try c.encode(referenceLag12, forKey: .referenceLag12)
        try c.encode(lag1PatternCorrelation, forKey: .lag1PatternCorrelation)
        try c.encode(eof1PatternCorrelation, forKey: .eof1PatternCorrelation)
        try c.encode(eof2PatternCorrelation, forKey: .eof2PatternCorrelation)
        try c.encode(eofVarianceFractions, forKey: .eofVarianceFractions)
        try c.encode(referenceEofVarianceFractions, forKey: .referenceEofVarianceFractions)
    }
}

/// Every score of one candidate ensemble (generated, training, baseline) against the reference.
public struct CandidateEvaluation: Codable, Sendable, Equatable {
    public var name: String
    /// Scores against each reference member as observation.
    public var verification: VerificationScores
    /// Spread ratio and ensemble-mean errors against the reference ensemble.
    public var comparison: EnsembleComparison
    public var nino34: NinoComparison
    public var variability: VariabilityComparison
    public var diagnostics: DiagnosticsSummary
}

/// The JSON-encoded part of an evaluation.
public struct EvaluationSummary: Codable, Sendable, Equatable {
    /// Version of this structure (incremented when keys change).
    public var schemaVersion: Int
    public var reference: DiagnosticsSummary
    public var candidates: [CandidateEvaluation]
}

/// Evaluation of one or more candidate ensembles against a reference ensemble.
public struct EvaluationReport: Sendable {
    public var summary: EvaluationSummary
    /// Full diagnostics (with maps) of the reference and of each candidate, same order as `summary.candidates`.
    public var referenceDiagnostics: DiagnosticsReport
    public var candidateDiagnostics: [DiagnosticsReport]
    /// Spread-ratio maps per candidate (count cellCount).
    public var spreadRatioMaps: [[Double]]

    /// JSON of `summary` (pretty-printed, sorted keys; a non-finite number is written as null).
    public func json() throws -> Data { try DiagnosticsJSON.encode(summary) }
}

/// Entry point for `ensemblegen evaluate`.
public enum EnsembleEvaluation {
    /// Scores `generated` (and optionally `training` and `baseline`) against `reference`
    /// (e.g. held-out members of the true ensemble). All must share grid and time axis.
    /// - Parameters:
    ///   - conditioningMember: the single member the generator was conditioned on; gives
    ///     the Niño3.4 correlation of each candidate's members with it (should be ≈ 0).
    public static func compare(generated: EnsembleFields, reference: EnsembleFields,
                               baseline: EnsembleFields? = nil, training: EnsembleFields? = nil,
                               conditioningMember: EnsembleFields? = nil,
                               options: DiagnosticOptions = DiagnosticOptions()) throws -> EvaluationReport {
        let candidates = [generated, training, baseline].compactMap { $0 }
        for c in candidates { try c.checkCompatible(with: reference) }
        if let cm = conditioningMember {
            try cm.checkCompatible(with: reference)
            guard cm.memberCount == 1 else { throw DiagnosticsError.invalidArgument("conditioning member must hold exactly one member, got \(cm.memberCount)") }
        }
        let refDiag = try EnsembleDiagnostics.compute(reference, options: options)
        var conditioningIndex: [Double]?
        if let cm = conditioningMember {
            let d: IndexDetrending = options.ninoDetrending == .ensembleMean ? .linear : options.ninoDetrending
            conditioningIndex = try ENSO.nino34Index(cm, basePeriod: options.basePeriod, detrending: d).values
        }
        var results = [CandidateEvaluation](), diags = [DiagnosticsReport](), maps = [[Double]]()
        let w = reference.grid.areaWeights
        for cand in candidates {
            let d = try EnsembleDiagnostics.compute(cand, options: options)
            let scores = try Verification.score(ensemble: cand, observations: reference, timeStride: options.verificationTimeStride)
            let cmp = try Verification.compare(cand, to: reference)
            let cn = d.summary.nino34, rn = refDiag.summary.nino34
            var monthRMSE: Double?
            if let c = cn.standardDeviationByMonth, let r = rn.standardDeviationByMonth {
                monthRMSE = (zip(c, r).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / 12).squareRoot()
            }
            let nino = NinoComparison(
                standardDeviationRatio: cn.standardDeviation / rn.standardDeviation,
                skewness: cn.skewness, referenceSkewness: rn.skewness,
                peakPeriodYears: cn.peakPeriodYears, referencePeakPeriodYears: rn.peakPeriodYears,
                standardDeviationByMonthRMSE: monthRMSE,
                regressionPatternCorrelation: Statistics.patternCorrelation(d.maps.ensoRegression, refDiag.maps.ensoRegression, weights: w),
                conditioningCorrelation: conditioningIndex.map { conditioningCorrelation(d.ninoIndex, $0) })
            let cc = d.summary.volcanic.last, rc = refDiag.summary.volcanic.last
            var volcanicRMSE: Double?
            if let cc, let rc, cc.name == "composite", rc.name == "composite" {
                volcanicRMSE = (zip(cc.ensembleMean, rc.ensembleMean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(cc.lags.count)).squareRoot()
            }
            let variability = VariabilityComparison(
                volcanicCompositeRMSE: volcanicRMSE, volcanicPeak: cc?.peakAnomaly, referenceVolcanicPeak: rc?.peakAnomaly,
                lag1: d.summary.autocorrelation.lag1, referenceLag1: refDiag.summary.autocorrelation.lag1,
                lag12: d.summary.autocorrelation.lag12, referenceLag12: refDiag.summary.autocorrelation.lag12,
                lag1PatternCorrelation: Statistics.patternCorrelation(d.maps.lag1, refDiag.maps.lag1, weights: w),
                eof1PatternCorrelation: EOF.patternCorrelation(d.maps.eof, refDiag.maps.eof, mode: 0, weights: w),
                eof2PatternCorrelation: EOF.patternCorrelation(d.maps.eof, refDiag.maps.eof, mode: 1, weights: w),
                eofVarianceFractions: Array(d.summary.eofVarianceFractions.prefix(5)),
                referenceEofVarianceFractions: Array(refDiag.summary.eofVarianceFractions.prefix(5)))
            results.append(CandidateEvaluation(name: cand.name, verification: scores, comparison: cmp, nino34: nino,
                                               variability: variability, diagnostics: d.summary))
            diags.append(d); maps.append(cmp.spreadRatioMap)
        }
        return EvaluationReport(summary: EvaluationSummary(schemaVersion: 2, reference: refDiag.summary, candidates: results),
                                referenceDiagnostics: refDiag, candidateDiagnostics: diags, spreadRatioMaps: maps)
    }

    static func conditioningCorrelation(_ index: MemberSeries, _ cond: [Double]) -> ConditioningCorrelation {
        let r = index.members.map { Statistics.correlation($0, cond) }
        func lag1(_ x: [Double]) -> Double { Statistics.correlation(Array(x.dropLast()), Array(x.dropFirst())) }
        let rc = lag1(cond)
        let rm = Statistics.mean(index.members.map(lag1))
        let nEff = Double(cond.count) * (1 - rc * rm) / (1 + rc * rm)
        return ConditioningCorrelation(perMember: r, mean: Statistics.mean(r), minimum: r.min() ?? .nan, maximum: r.max() ?? .nan,
                                       independenceBound95: 1.96 / max(nEff, 1).squareRoot())
    }
}

extension EvaluationReport {
    /// Markdown report: one table with a column per candidate, then each ensemble's diagnostics.
    public var markdown: String {
        let cs = summary.candidates, ref = summary.reference
        var md = "# Ensemble evaluation\n\nReference: **\(ref.name)** (\(ref.memberCount) members × \(ref.timeStep.count(ref.timeCount)), \(ref.firstYear)–\(ref.lastYear), grid \(ref.grid)). "
        md += "Candidates: " + cs.map { "**\($0.name)** (\($0.diagnostics.memberCount) members)" }.joined(separator: ", ") + ".\n\n"
        let header = ["metric", "ideal"] + cs.map(\.name) + [ref.name]
        func row(_ name: String, _ ideal: String, _ f: (CandidateEvaluation) -> Double?, reference: Double? = nil, digits: Int = 3) -> [String] {
            [name, ideal] + cs.map { Fmt.num(f($0), digits) } + [reference.map { Fmt.num($0, digits) } ?? ""]
        }
        var rows: [[String]] = [
            row("spread ratio (std / reference std)", "1", { $0.comparison.spreadRatio }),
            row("ensemble-mean RMSE vs reference mean (K)", "≈ sampling", { $0.comparison.ensembleMeanRMSE }),
            row("… expected from sampling alone (K)", "", { $0.comparison.ensembleMeanRMSEExpected }),
            row("ensemble-mean bias (K)", "0", { $0.comparison.ensembleMeanBias }),
            row("fair CRPS vs reference members (K)", "low", { $0.verification.crpsFair }),
            row("standard CRPS (K)", "low", { $0.verification.crpsStandard }),
            row("spread–skill ratio", "1", { $0.verification.spreadSkillRatio }),
            row("rank histogram χ²/dof", "1", { $0.verification.rankHistogram.reducedChiSquare }),
            row("Niño3.4 std ratio", "1", { $0.nino34.standardDeviationRatio }),
            row("Niño3.4 std (K)", "", { $0.diagnostics.nino34.standardDeviation }, reference: ref.nino34.standardDeviation),
            row("Niño3.4 skewness", "", { $0.nino34.skewness }, reference: ref.nino34.skewness),
            row("Niño3.4 peak period (years)", "", { $0.nino34.peakPeriodYears }, reference: ref.nino34.peakPeriodYears, digits: 2),
            row("ENSO regression pattern correlation", "1", { $0.nino34.regressionPatternCorrelation }),
        ]
        if !ref.isAnnual {
            rows.insert(row("Niño3.4 std-by-month RMSE (K)", "0", { $0.nino34.standardDeviationByMonthRMSE }), at: rows.count - 1)
        }
        if cs.contains(where: { $0.nino34.conditioningCorrelation != nil }) {
            rows.append(row("Niño3.4 corr. with conditioning member (mean)", "0", { $0.nino34.conditioningCorrelation?.mean }))
            rows.append(row("… largest absolute correlation", "< bound", { c in c.nino34.conditioningCorrelation.map { max(abs($0.minimum), abs($0.maximum)) } }))
            rows.append(row("… 95% bound for independent series", "", { $0.nino34.conditioningCorrelation?.independenceBound95 }))
        }
        rows += [
            row("volcanic composite RMSE (K)", "0", { $0.variability.volcanicCompositeRMSE }),
            row("volcanic peak cooling (K)", "", { $0.variability.volcanicPeak }, reference: cs.first?.variability.referenceVolcanicPeak),
            row("lag-1 autocorrelation (1 \(ref.timeStep.rawValue))", "", { $0.variability.lag1 }, reference: ref.autocorrelation.lag1),
        ]
        if let lag12 = ref.autocorrelation.lag12 {
            rows.append(row("lag-12 autocorrelation", "", { $0.variability.lag12 }, reference: lag12))
        }
        rows += [
            row("lag-1 pattern correlation", "1", { $0.variability.lag1PatternCorrelation }),
            row("EOF-1 pattern correlation", "1", { $0.variability.eof1PatternCorrelation }),
            row("EOF-2 pattern correlation", "1", { $0.variability.eof2PatternCorrelation }),
            row("EOF-1 variance fraction", "", { $0.variability.eofVarianceFractions.first }, reference: ref.eofVarianceFractions.first),
            row("EOF-2 variance fraction", "", { $0.variability.eofVarianceFractions.dropFirst().first }, reference: ref.eofVarianceFractions.dropFirst().first),
        ]
        md += Fmt.table(header, rows)
        if ref.isAnnual { md += "\n" + MonthlyOnlyMetrics.line + "\n" }
        if let note = ref.spectrumNote { md += "\nNiño3.4 spectra: \(note).\n" }
        md += "\nRank histogram χ² p-values assume independent samples; grid points and time steps are correlated, so compare χ²/dof between candidates rather than reading p literally.\n\n"
        for c in cs {
            md += "Rank histogram counts (\(c.name)): " + c.verification.rankHistogram.counts.map(String.init).joined(separator: ", ") + "\n\n"
        }
        md += referenceDiagnostics.markdown(headingLevel: 2)
        for d in candidateDiagnostics { md += "\n" + d.markdown(headingLevel: 2) }
        return md
    }
}
