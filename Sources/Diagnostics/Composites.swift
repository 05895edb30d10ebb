import Foundation

/// A volcanic eruption used as a key date for superposed-epoch composites.
public struct Eruption: Codable, Sendable, Equatable {
    public var name: String
    public var year: Int
    /// Calendar month of the eruption (1…12), lag 0.
    public var month: Int

    public init(name: String, year: Int, month: Int) { self.name = name; self.year = year; self.month = month }

    /// Krakatoa 1883-08, Santa María 1902-10, Novarupta 1912-06, Agung 1963-03,
    /// El Chichón 1982-04, Pinatubo 1991-06.
    public static let majorEruptions: [Eruption] = [
        Eruption(name: "Krakatoa", year: 1883, month: 8), Eruption(name: "Santa María", year: 1902, month: 10),
        Eruption(name: "Novarupta", year: 1912, month: 6), Eruption(name: "Agung", year: 1963, month: 3),
        Eruption(name: "El Chichón", year: 1982, month: 4), Eruption(name: "Pinatubo", year: 1991, month: 6),
    ]
}

/// Superposed-epoch composite of one series around one or more eruptions.
public struct EpochComposite: Codable, Sendable, Equatable {
    /// Name (an eruption's, or "composite" for the mean over eruptions).
    public var name: String
    /// Time steps relative to the eruption's, in `lagUnit`: months after the eruption month
    /// (e.g. −12…48) for monthly data, years after the eruption year (−1…4) for annual data.
    public var lags: [Int]
    /// Unit of `lags` and `peakLag`.
    public var lagUnit: TimeStepUnit
    /// Ensemble-mean anomaly at each lag (unit of the series, K), relative to the mean of
    /// the steps before lag 0 in the window (the 12 months, or the year, before by default).
    public var ensembleMean: [Double]
    /// 5th and 95th percentiles across members at each lag.
    public var percentile5: [Double]
    public var percentile95: [Double]
    /// Minimum of `ensembleMean` over the first two years after the eruption (lags 0…24
    /// months, 0…2 years) and the lag where it occurs.
    public var peakAnomaly: Double
    public var peakLag: Int
}

/// Volcanic superposed-epoch analysis.
public enum VolcanicComposite {
    /// Composites of a monthly or annual series (e.g. global mean, order (member, time))
    /// around each eruption whose whole window lies inside the record, and their mean over
    /// eruptions. The seasonal cycle (pooled monthly climatology; for annual data the mean)
    /// is removed first; each member's window is then expressed relative to its own mean
    /// over the pre-eruption lags.
    /// - Parameters:
    ///   - stepsPerYear: 12 for monthly data (lag 0 = the eruption month), 1 for annual data
    ///     (lag 0 = the eruption year, whose mean includes the months before the eruption).
    ///   - window: lags in months, must include negative lags (default −12…48); for annual
    ///     data whole years of it (−12…48 months → −1…4 years).
    /// - Returns: the per-eruption composites followed by the mean over eruptions (named
    ///   "composite"); eruptions outside the record are skipped. Empty when none fit.
    public static func composites(series: [Double], memberCount K: Int, monthsOfYear: [Int], years: [Int],
                                  stepsPerYear: Int = 12, eruptions: [Eruption] = Eruption.majorEruptions,
                                  window: ClosedRange<Int> = -12...48) throws -> [EpochComposite] {
        let T = monthsOfYear.count
        guard window.lowerBound < 0, window.upperBound >= 0 else {
            throw DiagnosticsError.invalidArgument("composite window \(window) must contain negative lags and lag 0")
        }
        guard stepsPerYear == 12 || stepsPerYear == 1 else {
            throw DiagnosticsError.invalidArgument("composites need monthly (12) or annual (1) steps per year, not \(stepsPerYear)")
        }
        guard series.count == K * T else { throw DiagnosticsError.shape("composite series has \(series.count) values, expected \(K) × \(T)") }
        let annual = stepsPerYear == 1
        // Months → steps, rounding outwards so an annual window keeps a pre-eruption year.
        let monthsPerStep = Double(12 / stepsPerYear)
        let stepWindow = Int((Double(window.lowerBound) / monthsPerStep).rounded(.down))...Int((Double(window.upperBound) / monthsPerStep).rounded(.up))
        let months = Climatology.classes(months: monthsOfYear, stepsPerYear: stepsPerYear)
        let anom = Climatology.anomalies(series, memberCount: K, months: months, years: years, basePeriod: nil)
        let lags = Array(stepWindow), preLags = lags.filter { $0 < 0 }
        let unit: TimeStepUnit = annual ? .year : .month
        let peakWindow = 0...(24 * stepsPerYear / 12)
        var results = [EpochComposite](), perMemberAll = [[[Double]]]()   // eruption, member, lag
        for e in eruptions {
            guard let t0 = (0..<T).first(where: { years[$0] == e.year && (annual || monthsOfYear[$0] == e.month) }),
                  t0 + stepWindow.lowerBound >= 0, t0 + stepWindow.upperBound < T else { continue }
            var perMember = [[Double]]()
            for m in 0..<K {
                let base = preLags.map { anom[m * T + t0 + $0] }.reduce(0, +) / Double(preLags.count)
                perMember.append(lags.map { anom[m * T + t0 + $0] - base })
            }
            results.append(summarize(name: e.name, lags: lags, unit: unit, peakWindow: peakWindow, perMember: perMember))
            perMemberAll.append(perMember)
        }
        if !perMemberAll.isEmpty {
            let E = Double(perMemberAll.count)
            let mean = (0..<K).map { m in lags.indices.map { l in perMemberAll.reduce(0) { $0 + $1[m][l] } / E } }
            results.append(summarize(name: "composite", lags: lags, unit: unit, peakWindow: peakWindow, perMember: mean))
        }
        return results
    }

    static func summarize(name: String, lags: [Int], unit: TimeStepUnit, peakWindow: ClosedRange<Int>,
                          perMember: [[Double]]) -> EpochComposite {
        let col = { (l: Int) in perMember.map { $0[l] } }
        let mean = lags.indices.map { Statistics.mean(col($0)) }
        var peak = Double.infinity, peakLag = 0
        for (l, lag) in lags.enumerated() where peakWindow.contains(lag) && mean[l] < peak { peak = mean[l]; peakLag = lag }
        return EpochComposite(name: name, lags: lags, lagUnit: unit, ensembleMean: mean,
                              percentile5: lags.indices.map { Statistics.quantile(col($0), 0.05) },
                              percentile95: lags.indices.map { Statistics.quantile(col($0), 0.95) },
                              peakAnomaly: peak, peakLag: peakLag)
    }
}
