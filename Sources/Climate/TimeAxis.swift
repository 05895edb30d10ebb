import Foundation

/// Errors from parsing or converting CF time coordinates.
public enum TimeAxisError: Error, CustomStringConvertible, Equatable {
    case unparsableUnits(String)
    case unknownCalendar(String)
    case invalidDate(String)
    case invalidBounds(String)
    /// A value that cannot be a time (NaN, a fill value, or beyond ±300 000 years).
    case invalidValue(String)
    /// Values that repeat or go backwards.
    case notIncreasing(String)

    public var description: String {
        switch self {
        case .unparsableUnits(let m): return "time units: \(m)"
        case .unknownCalendar(let c):
            return "unknown calendar '\(c)' (expected one of standard, gregorian, proleptic_gregorian, julian, noleap, 365_day, all_leap, 366_day, 360_day)"
        case .invalidDate(let m): return "invalid date: \(m)"
        case .invalidBounds(let m): return "time bounds: \(m)"
        case .invalidValue(let m): return m
        case .notIncreasing(let m): return m
        }
    }
}

/// How often a time axis samples: what the models and diagnostics need to know.
public enum TimeFrequency: String, Codable, Sendable, CaseIterable {
    /// One value per calendar month.
    case monthly
    /// One value per year.
    case annual
    case daily
    /// More than one value a day.
    case subdaily = "sub-daily"
    /// Steps of no single calendar length (gaps, mixed steps, a single undated step).
    case irregular
}

/// A calendar date and time of day, interpreted in some `CalendarKind`.
public struct CFDateTime: Equatable, Comparable, Hashable, Codable, Sendable, CustomStringConvertible {
    public var year: Int, month: Int, day: Int
    public var hour: Int, minute: Int
    /// Seconds within the minute, fractional.
    public var second: Double

    public init(year: Int, month: Int = 1, day: Int = 1, hour: Int = 0, minute: Int = 0, second: Double = 0) {
        self.year = year; self.month = month; self.day = day
        self.hour = hour; self.minute = minute; self.second = second
    }

    /// Seconds since midnight.
    public var secondOfDay: Double { Double(hour * 3600 + minute * 60) + second }

    public static func < (a: CFDateTime, b: CFDateTime) -> Bool {
        (a.year, a.month, a.day, a.hour, a.minute) < (b.year, b.month, b.day, b.hour, b.minute)
            || ((a.year, a.month, a.day, a.hour, a.minute) == (b.year, b.month, b.day, b.hour, b.minute) && a.second < b.second)
    }

    /// ISO-like text, `YYYY-MM-DD hh:mm:ss` (seconds shown with decimals only if needed).
    public var description: String {
        let s = second == second.rounded() ? String(format: "%02d", Int(second)) : String(format: "%09.6f", second)
        return String(format: "%04d-%02d-%02d %02d:%02d:", year, month, day, hour, minute) + s
    }

    /// `YYYY-MM-DD`.
    public var dateString: String { String(format: "%04d-%02d-%02d", year, month, day) }
}

/// CF time units, `<unit> since <reference date>[ <time>][ <zone>]`.
public struct TimeUnits: Equatable, Codable, Sendable {
    public enum Unit: String, Codable, Sendable {
        case days, hours, minutes, seconds
        /// Length in seconds.
        public var seconds: Double {
            switch self { case .days: return 86400; case .hours: return 3600; case .minutes: return 60; case .seconds: return 1 }
        }
    }
    public var unit: Unit
    public var reference: CFDateTime

    public init(unit: Unit, reference: CFDateTime) {
        self.unit = unit
        self.reference = reference
    }

    /// Parses e.g. `days since 1850-01-01`, `hours since 1900-1-1 00:00:00`,
    /// `seconds since 1970-01-01T00:00:00Z`. Only UTC (or no) time zone is accepted.
    public init(parsing text: String) throws {
        let parts = text.trimmingCharacters(in: .whitespaces).components(separatedBy: " since ")
        guard parts.count == 2 else {
            throw TimeAxisError.unparsableUnits("'\(text)' is not of the form '<unit> since <date>'")
        }
        switch parts[0].trimmingCharacters(in: .whitespaces).lowercased() {
        case "days", "day", "d": unit = .days
        case "hours", "hour", "hrs", "hr", "h": unit = .hours
        case "minutes", "minute", "mins", "min": unit = .minutes
        case "seconds", "second", "secs", "sec", "s": unit = .seconds
        case "months", "month", "years", "year":
            throw TimeAxisError.unparsableUnits(
                "'\(text)': months and years are not fixed lengths of time; convert the time axis to days (e.g. cdo settunits,days)")
        default: throw TimeAxisError.unparsableUnits("'\(text)': unknown time unit '\(parts[0])'")
        }
        reference = try TimeUnits.parseDate(parts[1], in: text)
    }

    private static func parseDate(_ s: String, in text: String) throws -> CFDateTime {
        var rest = s.trimmingCharacters(in: .whitespaces)
        for zone in [" UTC", " utc", "Z", "+00:00", "+0000", " 0:00", " 00:00"] where rest.hasSuffix(zone) {
            rest = String(rest.dropLast(zone.count)).trimmingCharacters(in: .whitespaces)
        }
        rest = rest.replacingOccurrences(of: "T", with: " ")
        let fields = rest.split(separator: " ", omittingEmptySubsequences: true)
        guard (1...2).contains(fields.count) else {
            throw TimeAxisError.unparsableUnits("'\(text)': cannot read the reference date '\(s)'")
        }
        // Date: [-]Y-M-D (a leading minus is a negative year).
        var dateText = String(fields[0]), sign = 1
        if dateText.hasPrefix("-") { sign = -1; dateText.removeFirst() }
        let ymd = dateText.split(separator: "-").map { Int($0) }
        guard (1...3).contains(ymd.count), ymd.allSatisfy({ $0 != nil }) else {
            throw TimeAxisError.unparsableUnits("'\(text)': cannot read the reference date '\(fields[0])'")
        }
        var date = CFDateTime(year: sign * ymd[0]!, month: ymd.count > 1 ? ymd[1]! : 1, day: ymd.count > 2 ? ymd[2]! : 1)
        if fields.count == 2 {
            let hms = fields[1].split(separator: ":")
            guard (1...3).contains(hms.count), let h = Int(hms[0]), h >= 0, h < 24 else {
                throw TimeAxisError.unparsableUnits("'\(text)': cannot read the reference time '\(fields[1])'")
            }
            date.hour = h
            if hms.count > 1 { guard let m = Int(hms[1]), (0..<60).contains(m) else {
                throw TimeAxisError.unparsableUnits("'\(text)': cannot read the reference time '\(fields[1])'") }; date.minute = m }
            if hms.count > 2 { guard let sec = Double(hms[2]), sec >= 0, sec < 61 else {
                throw TimeAxisError.unparsableUnits("'\(text)': cannot read the reference time '\(fields[1])'") }; date.second = sec }
        }
        return date
    }

    /// The CF attribute text, e.g. `days since 1850-01-01 00:00:00`.
    public var cfString: String { "\(unit.rawValue) since \(reference)" }
}

/// A CF time coordinate: offsets in `units` under `calendar`, with optional cell bounds.
public struct TimeAxis: Equatable, Codable, Sendable {
    public var units: TimeUnits
    public var calendar: CalendarKind
    /// Offsets from `units.reference`, in `units.unit`. Count `count`.
    public var values: [Double]
    /// Cell bounds `[start, end]` per value, same units, or nil.
    public var bounds: [[Double]]?

    public init(units: TimeUnits, calendar: CalendarKind, values: [Double], bounds: [[Double]]? = nil) {
        self.units = units
        self.calendar = calendar
        self.values = values
        self.bounds = bounds
    }

    /// From CF attribute text. A missing calendar attribute means `standard` (CF default).
    public init(unitsString: String, calendarName: String?, values: [Double], bounds: [[Double]]? = nil) throws {
        guard let calendar = calendarName.map({ CalendarKind(cfName: $0) }) ?? .standard else {
            throw TimeAxisError.unknownCalendar(calendarName ?? "")
        }
        let units = try TimeUnits(parsing: unitsString)
        // The reference date must exist in the calendar.
        _ = try calendar.dayNumber(year: units.reference.year, month: units.reference.month, day: units.reference.day)
        if let b = bounds, b.count != values.count || b.contains(where: { $0.count != 2 }) {
            throw TimeAxisError.invalidBounds("expected \(values.count)×2 values")
        }
        // Dates are computed from the values, so they must be finite and within a few hundred
        // thousand years before anything converts them.
        let limit = 1e13 / units.unit.seconds
        if let k = values.firstIndex(where: { !($0.magnitude <= limit) }) {
            throw TimeAxisError.invalidValue(
                "time value \(values[k]) at step \(k) is not a valid time (a missing or fill value in the time coordinate?); every time step needs a date")
        }
        if let b = bounds, let k = b.firstIndex(where: { !($0[0].magnitude <= limit && $0[1].magnitude <= limit && $0[0] <= $0[1]) }) {
            throw TimeAxisError.invalidBounds("bounds \(b[k]) of step \(k) are not a valid time interval")
        }
        self.init(units: units, calendar: calendar, values: values, bounds: bounds)
        if let k = values.indices.dropFirst().first(where: { !(values[$0] > values[$0 - 1]) }) {
            throw TimeAxisError.notIncreasing(
                "time values are not strictly increasing: step \(k) (\(date(at: k))) \(values[k] == values[k - 1] ? "repeats" : "comes before") step \(k - 1) (\(date(at: k - 1))); sort by time and drop duplicates (e.g. cdo sorttimestamp)")
        }
    }

    public var count: Int { values.count }

    private var referenceSeconds: Double {
        let r = units.reference
        // The reference was validated at construction (or built by `monthly`).
        let day = (try? calendar.dayNumber(year: r.year, month: r.month, day: r.day)) ?? 0
        return Double(day) * 86400 + r.secondOfDay
    }

    /// The date of an offset in this axis' units and calendar.
    public func date(offset: Double) -> CFDateTime {
        let total = referenceSeconds + offset * units.unit.seconds
        var day = Int((total / 86400).rounded(.down))
        var sod = ((total - Double(day) * 86400) * 1e6).rounded() / 1e6
        if sod >= 86400 { day += 1; sod -= 86400 }
        let (y, m, d) = calendar.date(dayNumber: day)
        let whole = Int(sod.rounded(.down))
        return CFDateTime(year: y, month: m, day: d, hour: whole / 3600, minute: (whole % 3600) / 60,
                          second: sod - Double(whole - whole % 60))
    }

    /// The date of coordinate value `index`.
    public func date(at index: Int) -> CFDateTime { date(offset: values[index]) }

    /// Dates of all values.
    public var dates: [CFDateTime] { values.map { date(offset: $0) } }

    /// Offset of `date` in this axis' units. Throws if the date does not exist in the calendar.
    public func offset(of date: CFDateTime) throws -> Double {
        let day = try calendar.dayNumber(year: date.year, month: date.month, day: date.day)
        return (Double(day) * 86400 + date.secondOfDay - referenceSeconds) / units.unit.seconds
    }

    /// Calendar month (1–12) of each value.
    public var monthsOfYear: [Int] { dates.map(\.month) }

    /// Calendar year of each value.
    public var years: [Int] { dates.map(\.year) }

    /// Median spacing of the values, in days (0 for fewer than two values).
    public var medianStepInDays: Double {
        guard count > 1 else { return 0 }
        let d = zip(values, values.dropFirst()).map { ($1 - $0) * units.unit.seconds / 86400 }.sorted()
        return d[d.count / 2]
    }

    /// "monthly", "annual", "daily", "6-hourly" … or "every N days".
    public var stepDescription: String {
        let d = medianStepInDays
        switch d {
        case 0: return "single time"
        case 27.5...31.5: return "monthly"
        case 359...367: return "annual"
        case 0.99...1.01: return "daily"
        case ..<0.99: return String(format: "%g-hourly", (d * 24).rounded())
        default: return String(format: "every %g days", d)
        }
    }

    /// The sampling frequency recognised from the dates: consecutive calendar months,
    /// consecutive years, or else daily, sub-daily or irregular steps. A single step is
    /// classified by its bounds (one month, one year), else `.irregular`.
    public var frequency: TimeFrequency {
        guard count > 1 else {
            guard let b = bounds?.first else { return .irregular }
            let days = (b[1] - b[0]) * units.unit.seconds / 86400
            switch days {
            case 27.5...31.5: return .monthly
            case 359...367: return .annual
            case 0.99...1.01: return .daily
            default: return .irregular
            }
        }
        if firstStepBreaking(.monthly) == nil { return .monthly }
        if firstStepBreaking(.annual) == nil { return .annual }
        switch medianStepInDays {
        case 0.99...1.01: return .daily
        case ..<0.99: return .subdaily
        default: return .irregular
        }
    }

    /// The first step that is not one calendar month (`.monthly`) or one year (`.annual`)
    /// after its predecessor, or nil when every step is.
    public func firstStepBreaking(_ frequency: TimeFrequency) -> Int? {
        let d = dates
        return d.indices.dropFirst().first { k in
            switch frequency {
            case .monthly: return (d[k].year * 12 + d[k].month) - (d[k - 1].year * 12 + d[k - 1].month) != 1
            case .annual: return d[k].year - d[k - 1].year != 1 || (values[k] - values[k - 1]) * units.unit.seconds < 300 * 86400
            default: return true
            }
        }
    }

    /// Cell bounds for every value: the axis' own bounds when it has them; otherwise the edges
    /// of each value's calendar month (monthly data) or year (annual data) in this calendar,
    /// and for other steps the midpoints between values (half a step beyond the ends).
    public var cellBounds: [[Double]] {
        if let b = bounds, b.count == count { return b }
        let d = dates
        func edges(_ start: (CFDateTime) -> CFDateTime, _ next: (CFDateTime) -> CFDateTime) -> [[Double]]? {
            try? d.map { date in
                let a = start(date)
                return [try offset(of: a), try offset(of: next(a))]
            }
        }
        switch frequency {
        case .monthly:
            if let b = edges({ CFDateTime(year: $0.year, month: $0.month) },
                             { $0.month == 12 ? CFDateTime(year: $0.year + 1) : CFDateTime(year: $0.year, month: $0.month + 1) }) { return b }
        case .annual:
            if let b = edges({ CFDateTime(year: $0.year) }, { CFDateTime(year: $0.year + 1) }) { return b }
        default: break
        }
        // One value has no neighbour to take a step from: a zero-width cell.
        return (try? Grid.derivedBounds(values, clampTo: nil)) ?? values.map { [$0, $0] }
    }

    /// A monthly axis for January `startYear` … December `endYear` (inclusive): values at
    /// mid-month, bounds at the month edges, units `days since <startYear>-01-01`.
    public static func monthly(startYear: Int, endYear: Int, calendar: CalendarKind = .standard) -> TimeAxis {
        let units = TimeUnits(unit: .days, reference: CFDateTime(year: startYear))
        var axis = TimeAxis(units: units, calendar: calendar, values: [], bounds: [])
        let origin = (try? calendar.dayNumber(year: startYear, month: 1, day: 1)) ?? 0
        var values: [Double] = [], bounds: [[Double]] = []
        values.reserveCapacity(12 * max(0, endYear - startYear + 1))
        if endYear >= startYear {
            for year in startYear...endYear {
                for month in 1...12 {
                    let a = (try? calendar.dayNumber(year: year, month: month, day: 1)) ?? 0
                    let b = a + calendar.daysInMonth(year: year, month: month)
                    values.append(0.5 * Double(a + b) - Double(origin))
                    bounds.append([Double(a - origin), Double(b - origin)])
                }
            }
        }
        axis.values = values
        axis.bounds = bounds
        return axis
    }

    /// The values whose dates fall in years `first…last` (inclusive), as an index range.
    public func indices(fromYear first: Int, toYear last: Int) -> Range<Int> {
        let y = years
        let lo = y.firstIndex { $0 >= first } ?? count
        let hi = y.lastIndex { $0 <= last }.map { $0 + 1 } ?? lo
        return lo..<max(lo, hi)
    }
}
