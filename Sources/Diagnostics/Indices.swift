import Foundation
import Climate

/// How the forced (slow, common) signal is removed from an index after its monthly
/// climatology (for annual data its mean) has been subtracted.
public enum IndexDetrending: String, Codable, Sendable {
    /// Climatology removal only.
    case none
    /// Least-squares line removed from each member's series.
    case linear
    /// The ensemble-mean index removed at every time step (needs ≥ 2 members).
    case ensembleMean
}

/// An index (one value per time step) for every member, order (member, time).
public struct MemberSeries: Sendable {
    public var values: [Double]
    public let memberCount: Int
    public let timeCount: Int
    /// The series of member `m`, count `timeCount`.
    public func member(_ m: Int) -> [Double] { Array(values[(m * timeCount)..<((m + 1) * timeCount)]) }
    /// Every member's series.
    public var members: [[Double]] { (0..<memberCount).map(member) }
}

/// Statistics of the Niño3.4 index (all in the field's unit, normally K).
public struct NinoStatistics: Codable, Sendable, Equatable {
    /// Standard deviation (ddof = 1) pooled over all members and time steps.
    public var standardDeviation: Double
    /// Skewness g₁ (moment estimator) pooled over all members and time steps.
    public var skewness: Double
    /// Standard deviation by calendar month (January first), pooled over members and years;
    /// nil for annual data (it needs monthly data).
    public var standardDeviationByMonth: [Double]?
    /// Welch spectrum averaged over members; frequencies in cycles per year, density in K²·yr.
    public var spectrum: PowerSpectrum
    /// Period (years) of the spectral peak within the search band; NaN (JSON null) when no
    /// resolved frequency lies in the band.
    public var peakPeriodYears: Double
}

extension NinoStatistics {
    /// Every key is written; `standardDeviationByMonth` is null for annual data.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(standardDeviation, forKey: .standardDeviation); try c.encode(skewness, forKey: .skewness)
        try c.encode(standardDeviationByMonth, forKey: .standardDeviationByMonth)
        try c.encode(spectrum, forKey: .spectrum); try c.encode(peakPeriodYears, forKey: .peakPeriodYears)
    }
}

/// ENSO diagnostics: Niño3.4 index, its statistics and the regression map.
public enum ENSO {
    /// Niño3.4 index of every member: area-weighted mean over 5°S–5°N, 190°E–240°E (cells
    /// weighted by their overlap with the box), minus the monthly climatology of the base
    /// period pooled over members (for annual fields the base-period mean), then detrended
    /// as requested.
    /// - Parameters:
    ///   - basePeriod: years of the climatology (all years when nil).
    ///   - region: the box (Niño3.4 unless changed).
    public static func nino34Index(_ fields: EnsembleFields, basePeriod: ClosedRange<Int>? = nil,
                                   detrending: IndexDetrending = .linear, region: Region = .nino34) throws -> MemberSeries {
        let raw = try fields.regionalMean(region)
        var anom = Climatology.anomalies(raw, memberCount: fields.memberCount, months: fields.climatologyMonths,
                                         years: fields.years, basePeriod: basePeriod)
        let K = fields.memberCount, T = fields.timeCount
        switch detrending {
        case .none: break
        case .linear:
            for m in 0..<K {
                var s = Array(anom[(m * T)..<((m + 1) * T)])
                Statistics.removeLinearTrend(&s)
                anom.replaceSubrange((m * T)..<((m + 1) * T), with: s)
            }
        case .ensembleMean:
            guard K >= 2 else {
                throw DiagnosticsError.invalidArgument("\(fields.name): ensemble-mean detrending needs at least 2 members")
            }
            for t in 0..<T {
                let mean = (0..<K).map { anom[$0 * T + t] }.reduce(0, +) / Double(K)
                for m in 0..<K { anom[m * T + t] -= mean }
            }
        }
        if anom.contains(where: { !$0.isFinite }) {
            throw DiagnosticsError.insufficientData("\(fields.name): the \(region.name) region has months where every cell is missing")
        }
        return MemberSeries(values: anom, memberCount: K, timeCount: T)
    }

    /// Standard deviation, skewness, calendar-month standard deviation (monthly data only)
    /// and Welch spectrum (segments of `segmentLength` time steps, default 40 years of
    /// months) with its peak in `peakBand` years.
    /// - Parameters:
    ///   - stepsPerYear: 12 for a monthly index, 1 for an annual one (Nyquist 0.5 cycles/yr:
    ///     periods under 2 years are not resolved).
    public static func statistics(of index: MemberSeries, monthsOfYear: [Int], stepsPerYear: Int = 12, segmentLength: Int = 480,
                                  peakBand: ClosedRange<Double> = 1...10) throws -> NinoStatistics {
        let byMonth: [Double]? = stepsPerYear != 12 ? nil : (1...12).map { month in
            var v = [Double]()
            for m in 0..<index.memberCount {
                for t in 0..<index.timeCount where monthsOfYear[t] == month { v.append(index.values[m * index.timeCount + t]) }
            }
            return Statistics.standardDeviation(v)
        }
        let spectrum = try Spectral.welch(index.members, samplesPerYear: Double(stepsPerYear), segmentLength: segmentLength)
        return NinoStatistics(standardDeviation: Statistics.standardDeviation(index.values),
                              skewness: Statistics.skewness(index.values),
                              standardDeviationByMonth: byMonth, spectrum: spectrum,
                              peakPeriodYears: Spectral.peakPeriod(spectrum, band: peakBand))
    }

    /// Grid-point regression on the index: for every cell the least-squares slope of the
    /// cell's anomaly (monthly climatology of the base period removed, pooled over members;
    /// for annual fields the base-period mean)
    /// on the index, pooled over members and months: Σ(x−x̄)(n−n̄)/Σ(n−n̄)². Units: field
    /// unit per unit of index (K per K). Count `cellCount`, NaN where the cell is missing.
    /// With a detrended index this equals the slope on detrended anomalies.
    public static func regressionMap(_ fields: EnsembleFields, on index: MemberSeries,
                                     basePeriod: ClosedRange<Int>? = nil) -> [Double] {
        let n = fields.cellCount, T = fields.timeCount
        let clim = fields.cellClimatology(basePeriod: basePeriod), months = fields.climatologyMonths
        var sx = [Double](repeating: 0, count: n), sd = sx, sxd = sx, sdd = sx, cnt = sx
        fields.values.withUnsafeBufferPointer { v in
            for m in 0..<fields.memberCount {
                for t in 0..<T {
                    let d = index.values[m * T + t]
                    let base = fields.offset(member: m, time: t), cb = (months[t] - 1) * n
                    for c in 0..<n {
                        let x = Double(v[base + c]) - clim[cb + c]
                        guard x.isFinite else { continue }
                        sx[c] += x; sd[c] += d; sxd[c] += x * d; sdd[c] += d * d; cnt[c] += 1
                    }
                }
            }
        }
        return (0..<n).map { c in
            guard cnt[c] > 2 else { return .nan }
            let vd = sdd[c] - sd[c] * sd[c] / cnt[c]
            return vd > 0 ? (sxd[c] - sx[c] * sd[c] / cnt[c]) / vd : .nan
        }
    }
}

extension EnsembleFields {
    /// Per-cell monthly climatology, order (calendar month 0…11, cell), pooled over members,
    /// over years in `basePeriod` (all when nil). NaN where a cell has no data in a month.
    /// Annual fields have one class (index 0, the mean); the other eleven are NaN.
    func cellClimatology(basePeriod: ClosedRange<Int>?) -> [Double] {
        let n = cellCount, months = climatologyMonths
        var s = [Double](repeating: 0, count: 12 * n), c = s
        values.withUnsafeBufferPointer { v in
            for m in 0..<memberCount {
                for t in 0..<timeCount where basePeriod?.contains(years[t]) ?? true {
                    let base = offset(member: m, time: t), cb = (months[t] - 1) * n
                    for i in 0..<n { let x = v[base + i]; if x.isFinite { s[cb + i] += Double(x); c[cb + i] += 1 } }
                }
            }
        }
        return (0..<(12 * n)).map { c[$0] > 0 ? s[$0] / c[$0] : .nan }
    }
}

/// Annual global-mean temperature of every member and its envelope.
public struct GlobalMeanSummary: Codable, Sendable, Equatable {
    /// Calendar years with 12 valid months (annual data: a valid annual mean) in every member.
    public var years: [Int]
    /// Annual means, one array per member (order member, year), field unit.
    public var annualMeans: [[Double]]
    /// Ensemble mean of the annual means.
    public var ensembleMean: [Double]
    /// 5th and 95th percentiles across members (linear interpolation).
    public var percentile5: [Double]
    public var percentile95: [Double]
    /// Least-squares trend of the ensemble-mean annual series over `years` (first to last),
    /// unit per century; nil with fewer than 3 years.
    public var trendPerCentury: Double?

    /// Builds the summary from global means laid out (member, time): monthly means
    /// (`stepsPerYear` 12, averaged over whole calendar years) or annual means (1).
    public static func make(globalMeans g: [Double], memberCount K: Int, months: [Int], years: [Int],
                            stepsPerYear: Int = 12) -> GlobalMeanSummary {
        let T = months.count
        let uniqueYears = Array(Set(years)).sorted()
        var keptYears = [Int](), annual = [[Double]](repeating: [], count: K)
        for y in uniqueYears {
            let idx = (0..<T).filter { years[$0] == y }
            guard idx.count == stepsPerYear, stepsPerYear == 1 || Set(idx.map { months[$0] }).count == 12 else { continue }
            let means = (0..<K).map { m in idx.map { g[m * T + $0] }.reduce(0, +) / Double(stepsPerYear) }
            guard means.allSatisfy({ $0.isFinite }) else { continue }
            keptYears.append(y)
            for m in 0..<K { annual[m].append(means[m]) }
        }
        let Y = keptYears.count
        let em = (0..<Y).map { y in (0..<K).map { annual[$0][y] }.reduce(0, +) / Double(K) }
        let p5 = (0..<Y).map { y in Statistics.quantile((0..<K).map { annual[$0][y] }, 0.05) }
        let p95 = (0..<Y).map { y in Statistics.quantile((0..<K).map { annual[$0][y] }, 0.95) }
        let trend = Y > 2 ? Statistics.linearTrend(x: keptYears.map(Double.init), y: em).map { 100 * $0.slope } : nil
        return GlobalMeanSummary(years: keptYears, annualMeans: annual, ensembleMean: em,
                                 percentile5: p5, percentile95: p95, trendPerCentury: trend)
    }
}

extension GlobalMeanSummary {
    /// Every key is written; `trendPerCentury` is null when it could not be computed.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(years, forKey: .years); try c.encode(annualMeans, forKey: .annualMeans)
        try c.encode(ensembleMean, forKey: .ensembleMean); try c.encode(percentile5, forKey: .percentile5)
        try c.encode(percentile95, forKey: .percentile95); try c.encode(trendPerCentury, forKey: .trendPerCentury)
    }
}
