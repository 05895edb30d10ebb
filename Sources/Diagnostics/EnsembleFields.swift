import Foundation
import Climate

/// Errors raised by the diagnostics, with a message that names the input and the problem.
public enum DiagnosticsError: Error, CustomStringConvertible, Equatable {
    /// Array sizes that do not match the declared counts.
    case shape(String)
    /// An argument outside its valid range.
    case invalidArgument(String)
    /// Not enough valid (non-missing) data for the requested statistic.
    case insufficientData(String)
    /// A LAPACK routine returned a non-zero `info`.
    case lapack(routine: String, info: Int32)
    /// A file could not be written.
    case io(String)
    /// PROJ could not create or apply a projection.
    case projection(String)

    public var description: String {
        switch self {
        case .shape(let m): return "diagnostics: shape mismatch: \(m)"
        case .invalidArgument(let m): return "diagnostics: invalid argument: \(m)"
        case .insufficientData(let m): return "diagnostics: insufficient data: \(m)"
        case .lapack(let r, let info): return "diagnostics: LAPACK \(r) failed with info = \(info)"
        case .io(let m): return "diagnostics: I/O error: \(m)"
        case .projection(let m): return "diagnostics: projection error: \(m)"
        }
    }
}

/// A gridded ensemble held as one flat Float32 array, order (member, time, lat, lon),
/// row-major; NaN marks missing values (masked cells or missing months).
///
/// This is the plain-array input of every diagnostic. Units are whatever the caller's
/// field has (kelvin for `tas`); every diagnostic reports in the same unit.
public struct EnsembleFields: Sendable {
    /// Values, count `memberCount × timeCount × grid.cellCount`, order (member, time, lat, lon).
    public var values: [Float]
    /// Number of members (realizations).
    public let memberCount: Int
    /// Number of time steps (months, or years for annual fields).
    public let timeCount: Int
    /// Time steps per year: 12 for monthly fields, 1 for annual fields (annual means).
    public let stepsPerYear: Int
    /// Horizontal grid (latitude ascending, longitude ascending in [0, 360)).
    public let grid: Grid
    /// Calendar month (1…12) of each time step, count `timeCount` (for annual fields the
    /// month of the time coordinate, which the diagnostics do not use).
    public let monthsOfYear: [Int]
    /// Calendar year of each time step, count `timeCount`.
    public let years: [Int]
    /// Label used in reports and figure legends (e.g. "generated", "reference").
    public var name: String

    /// Validates the sizes: `values.count == memberCount·timeCount·cellCount`, one month
    /// (1…12) and one year per time step, at least one member and one time step, and
    /// `stepsPerYear` 12 (monthly) or 1 (annual: one step per calendar year, years consecutive).
    public init(values: [Float], memberCount: Int, timeCount: Int, grid: Grid,
                monthsOfYear: [Int], years: [Int], stepsPerYear: Int = 12, name: String = "ensemble") throws {
        guard memberCount >= 1, timeCount >= 1 else {
            throw DiagnosticsError.shape("\(name): need at least one member and one time step (got \(memberCount) × \(timeCount))")
        }
        guard values.count == memberCount * timeCount * grid.cellCount else {
            throw DiagnosticsError.shape("\(name): values has \(values.count) elements, expected members \(memberCount) × time \(timeCount) × lat \(grid.latitudeCount) × lon \(grid.longitudeCount) = \(memberCount * timeCount * grid.cellCount)")
        }
        guard monthsOfYear.count == timeCount, years.count == timeCount else {
            throw DiagnosticsError.shape("\(name): monthsOfYear (\(monthsOfYear.count)) and years (\(years.count)) must both have timeCount = \(timeCount) entries")
        }
        guard monthsOfYear.allSatisfy({ (1...12).contains($0) }) else {
            throw DiagnosticsError.invalidArgument("\(name): monthsOfYear must be in 1…12")
        }
        guard stepsPerYear == 12 || stepsPerYear == 1 else {
            throw DiagnosticsError.invalidArgument("\(name): \(stepsPerYear) time steps per year; the diagnostics need monthly (12) or annual (1) data")
        }
        if stepsPerYear == 1, let k = (1..<max(timeCount, 1)).first(where: { years[$0] != years[$0 - 1] + 1 }) {
            throw DiagnosticsError.invalidArgument("\(name): annual step \(k) is year \(years[k]) after \(years[k - 1]); annual data need one step per consecutive year")
        }
        self.values = values
        self.memberCount = memberCount
        self.timeCount = timeCount
        self.stepsPerYear = stepsPerYear
        self.grid = grid
        self.monthsOfYear = monthsOfYear
        self.years = years
        self.name = name
    }

    /// Same as the designated initialiser with months, years and steps per year taken from a
    /// CF time axis (annual when `time.frequency` is annual, else monthly).
    public init(values: [Float], memberCount: Int, grid: Grid, time: TimeAxis, name: String = "ensemble") throws {
        try self.init(values: values, memberCount: memberCount, timeCount: time.count, grid: grid,
                      monthsOfYear: time.monthsOfYear, years: time.years,
                      stepsPerYear: time.frequency == .annual ? 1 : 12, name: name)
    }

    /// True for annual fields (one step per year).
    public var isAnnual: Bool { stepsPerYear == 1 }

    /// The time step as a word for reports: "month" or "year".
    public var stepUnit: TimeStepUnit { isAnnual ? .year : .month }

    /// Climatology class of each time step (1…12): the calendar month for monthly fields, 1
    /// for every step of annual fields (annual means have no seasonal cycle to remove).
    var climatologyMonths: [Int] { Climatology.classes(months: monthsOfYear, stepsPerYear: stepsPerYear) }

    /// Number of grid cells per field.
    public var cellCount: Int { grid.cellCount }

    /// Time in fractional years, `year + (month − 0.5) / 12` (mid-month), or `year + 0.5`
    /// for annual fields, count `timeCount`.
    public var fractionalYears: [Double] {
        (0..<timeCount).map { isAnnual ? Double(years[$0]) + 0.5 : Double(years[$0]) + (Double(monthsOfYear[$0]) - 0.5) / 12 }
    }

    /// Offset of the field (member, time) in `values`.
    @inline(__always)
    public func offset(member: Int, time: Int) -> Int { (member * timeCount + time) * grid.cellCount }

    /// Index of the time step at (year, month), or nil when it is outside the record; for
    /// annual fields the step of `year` (the month is ignored).
    public func timeIndex(year: Int, month: Int) -> Int? {
        (0..<timeCount).first { years[$0] == year && (isAnnual || monthsOfYear[$0] == month) }
    }

    /// Throws unless `other` has the same grid and time axis (months and years).
    func checkCompatible(with other: EnsembleFields) throws {
        guard grid.matches(other.grid) else {
            throw DiagnosticsError.shape("\(name) grid \(grid.summary) differs from \(other.name) grid \(other.grid.summary)")
        }
        guard timeCount == other.timeCount, stepsPerYear == other.stepsPerYear,
              climatologyMonths == other.climatologyMonths, years == other.years else {
            throw DiagnosticsError.shape("\(name) time axis (\(timeCount) steps, \(years.first ?? 0)–\(years.last ?? 0)) differs from \(other.name) (\(other.timeCount) steps, \(other.years.first ?? 0)–\(other.years.last ?? 0))")
        }
    }
}

/// The unit of a time step (and of lags) in the reports.
public enum TimeStepUnit: String, Codable, Sendable {
    case month, year

    /// "1 month", "165 years".
    public func count(_ n: Int) -> String { "\(n) \(rawValue)\(n == 1 ? "" : "s")" }
    /// "months" or "years".
    public var plural: String { rawValue + "s" }
}

/// The metrics that need monthly data and are absent (JSON null) for annual data.
public enum MonthlyOnlyMetrics {
    /// Their names, for the one line that says what annual data cannot give.
    public static let names = ["Niño3.4 standard deviation by calendar month (ENSO phase locking)",
                               "lag-12-month autocorrelation"]
    /// "not computed on annual data (they need monthly data): …".
    public static var line: String { "Not computed on annual data (they need monthly data): " + names.joined(separator: ", ") + "." }
}

extension EnsembleFields {
    /// Weighted mean over cells of every (member, time) field, skipping NaN cells (the
    /// weights of the remaining cells are renormalised). Result order (member, time),
    /// count `memberCount × timeCount`; NaN where every weighted cell is missing.
    public func weightedMeans(weights: [Double]) -> [Double] {
        let n = cellCount
        let active = (0..<n).filter { weights[$0] > 0 }
        var out = [Double](repeating: .nan, count: memberCount * timeCount)
        values.withUnsafeBufferPointer { v in
            for f in 0..<(memberCount * timeCount) {
                let base = f * n
                var s = 0.0, ws = 0.0
                for c in active {
                    let x = v[base + c]
                    if x.isFinite { s += weights[c] * Double(x); ws += weights[c] }
                }
                if ws > 0 { out[f] = s / ws }
            }
        }
        return out
    }

    /// Global-mean (area-weighted, mask-aware) series, order (member, time). Units of the field.
    public func globalMean() -> [Double] { weightedMeans(weights: grid.areaWeights) }

    /// Area-weighted mean over `region`, order (member, time).
    public func regionalMean(_ region: Region) throws -> [Double] {
        weightedMeans(weights: try region.weights(on: grid))
    }
}
