import Foundation

/// The calendars of the CF conventions (section 4.4.1).
///
/// Each calendar maps a date to a day number; offsets between dates are differences of
/// day numbers. `standard` is the mixed Julian/Gregorian calendar: Julian up to
/// 1582-10-04, Gregorian from 1582-10-15 (the ten days between do not exist).
public enum CalendarKind: String, Codable, Sendable, CaseIterable {
    case standard
    case prolepticGregorian = "proleptic_gregorian"
    case julian
    case noLeap = "noleap"
    case allLeap = "all_leap"
    case day360 = "360_day"

    /// Accepts the CF names and aliases (`gregorian`, `365_day`, `366_day`, `none` is not a
    /// calendar and is rejected), case-insensitively.
    public init?(cfName: String) {
        switch cfName.lowercased().trimmingCharacters(in: .whitespaces) {
        case "standard", "gregorian": self = .standard
        case "proleptic_gregorian": self = .prolepticGregorian
        case "julian": self = .julian
        case "noleap", "365_day": self = .noLeap
        case "all_leap", "366_day": self = .allLeap
        case "360_day": self = .day360
        default: return nil
        }
    }

    /// The canonical CF attribute value.
    public var cfName: String { rawValue }

    /// Whether `year` has a 29 February (or, in `day360`, always false: every month has 30 days).
    public func isLeapYear(_ year: Int) -> Bool {
        switch self {
        case .prolepticGregorian: return Calendars.isGregorianLeap(year)
        case .julian: return Calendars.isJulianLeap(year)
        case .standard: return year > 1582 ? Calendars.isGregorianLeap(year) : Calendars.isJulianLeap(year)
        case .noLeap, .day360: return false
        case .allLeap: return true
        }
    }

    /// Number of days in `month` (1–12) of `year`.
    public func daysInMonth(year: Int, month: Int) -> Int {
        if self == .day360 { return 30 }
        if month == 2 { return isLeapYear(year) ? 29 : 28 }
        return Calendars.monthLengths[month - 1]
    }

    /// Day number of a date: consecutive integers for consecutive days. Dates in the
    /// `standard` calendar share the Julian Day Number scale; other calendars use their own
    /// origin (only differences matter). Throws for dates that do not exist.
    public func dayNumber(year: Int, month: Int, day: Int) throws -> Int {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month) else {
            throw TimeAxisError.invalidDate("\(year)-\(month)-\(day) does not exist in the \(cfName) calendar")
        }
        switch self {
        case .prolepticGregorian: return Calendars.gregorianJDN(year, month, day)
        case .julian: return Calendars.julianJDN(year, month, day)
        case .standard:
            let g = Calendars.gregorianJDN(year, month, day)
            if g >= Calendars.gregorianStartJDN { return g }
            let j = Calendars.julianJDN(year, month, day)
            guard j < Calendars.gregorianStartJDN else {
                throw TimeAxisError.invalidDate(
                    "\(year)-\(month)-\(day) falls in the 1582-10-05…14 gap of the standard (mixed Julian/Gregorian) calendar")
            }
            return j
        case .noLeap: return 365 * year + Calendars.cumulativeDays(month, leap: false) + day - 1
        case .allLeap: return 366 * year + Calendars.cumulativeDays(month, leap: true) + day - 1
        case .day360: return 360 * year + 30 * (month - 1) + day - 1
        }
    }

    /// The date of a day number (inverse of `dayNumber`).
    public func date(dayNumber n: Int) -> (year: Int, month: Int, day: Int) {
        switch self {
        case .prolepticGregorian: return Calendars.gregorianDate(jdn: n)
        case .julian: return Calendars.julianDate(jdn: n)
        case .standard: return n >= Calendars.gregorianStartJDN ? Calendars.gregorianDate(jdn: n) : Calendars.julianDate(jdn: n)
        case .noLeap, .allLeap:
            let leap = self == .allLeap
            let length = leap ? 366 : 365
            let year = Calendars.floorDiv(n, length)
            let doy = n - year * length
            var month = 12
            while Calendars.cumulativeDays(month, leap: leap) > doy { month -= 1 }
            return (year, month, doy - Calendars.cumulativeDays(month, leap: leap) + 1)
        case .day360:
            let year = Calendars.floorDiv(n, 360)
            let r = n - 360 * year
            return (year, r / 30 + 1, r % 30 + 1)
        }
    }
}

/// Day-number arithmetic shared by the calendars (Julian Day Number scale).
enum Calendars {
    static let monthLengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    /// JDN of 1582-10-15, the first Gregorian day of the standard calendar.
    static let gregorianStartJDN = 2_299_161

    static func isGregorianLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
    static func isJulianLeap(_ y: Int) -> Bool { y % 4 == 0 }

    static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// Days before the first of `month` in a non-leap (or leap) year.
    static func cumulativeDays(_ month: Int, leap: Bool) -> Int {
        var s = 0
        for m in 0..<(month - 1) { s += monthLengths[m] + (m == 1 && leap ? 1 : 0) }
        return s
    }

    /// Year counted from March (so the leap day ends the year) and day of that year.
    private static func marchBased(_ y: Int, _ m: Int, _ d: Int) -> (year: Int, dayOfYear: Int) {
        let mp = (m + 9) % 12
        return (m <= 2 ? y - 1 : y, (153 * mp + 2) / 5 + d - 1)
    }

    private static func fromMarchBased(year yp: Int, dayOfYear doy: Int) -> (Int, Int, Int) {
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yp + (m <= 2 ? 1 : 0), m, d)
    }

    /// Julian Day Number of a proleptic Gregorian date (400-year eras).
    static func gregorianJDN(_ y: Int, _ m: Int, _ d: Int) -> Int {
        let (yp, doy) = marchBased(y, m, d)
        let era = floorDiv(yp, 400)
        let yoe = yp - era * 400
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe + 1_721_120
    }

    static func gregorianDate(jdn: Int) -> (year: Int, month: Int, day: Int) {
        let z = jdn - 1_721_120
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let (y, m, d) = fromMarchBased(year: yoe + era * 400, dayOfYear: doy)
        return (y, m, d)
    }

    /// Julian Day Number of a Julian-calendar date (4-year cycles).
    static func julianJDN(_ y: Int, _ m: Int, _ d: Int) -> Int {
        let (yp, doy) = marchBased(y, m, d)
        return 365 * yp + floorDiv(yp, 4) + doy + 1_721_118
    }

    static func julianDate(jdn: Int) -> (year: Int, month: Int, day: Int) {
        let z = jdn - 1_721_118
        let cycle = floorDiv(z, 1461)
        let r = z - cycle * 1461
        let yoc = min(r / 365, 3)
        let (y, m, d) = fromMarchBased(year: cycle * 4 + yoc, dayOfYear: r - 365 * yoc)
        return (y, m, d)
    }
}
