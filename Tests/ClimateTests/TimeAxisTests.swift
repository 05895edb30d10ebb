import XCTest
@testable import Climate

final class TimeAxisTests: XCTestCase {
    /// Julian Day Numbers from the astronomical tables (Meeus, Astronomical Algorithms).
    func testKnownJulianDayNumbers() throws {
        XCTAssertEqual(try CalendarKind.standard.dayNumber(year: 2000, month: 1, day: 1), 2_451_545)
        XCTAssertEqual(try CalendarKind.standard.dayNumber(year: 1970, month: 1, day: 1), 2_440_588)
        XCTAssertEqual(try CalendarKind.standard.dayNumber(year: 1582, month: 10, day: 15), 2_299_161)
        XCTAssertEqual(try CalendarKind.standard.dayNumber(year: 1582, month: 10, day: 4), 2_299_160)
        XCTAssertEqual(try CalendarKind.standard.dayNumber(year: -4712, month: 1, day: 1), 0)
        XCTAssertEqual(try CalendarKind.julian.dayNumber(year: 2000, month: 1, day: 1), 2_451_558)
        XCTAssertEqual(try CalendarKind.prolepticGregorian.dayNumber(year: 1582, month: 10, day: 4), 2_299_150)
    }

    func testGregorianGapIsRejectedInStandardCalendar() {
        XCTAssertThrowsError(try CalendarKind.standard.dayNumber(year: 1582, month: 10, day: 10))
        XCTAssertNoThrow(try CalendarKind.prolepticGregorian.dayNumber(year: 1582, month: 10, day: 10))
        XCTAssertNoThrow(try CalendarKind.julian.dayNumber(year: 1582, month: 10, day: 10))
    }

    func testLeapDaysPerCalendar() {
        XCTAssertNoThrow(try CalendarKind.standard.dayNumber(year: 2000, month: 2, day: 29))
        XCTAssertThrowsError(try CalendarKind.standard.dayNumber(year: 1900, month: 2, day: 29))
        XCTAssertNoThrow(try CalendarKind.julian.dayNumber(year: 1900, month: 2, day: 29))
        XCTAssertNoThrow(try CalendarKind.standard.dayNumber(year: 1500, month: 2, day: 29), "Julian rule before 1582")
        XCTAssertThrowsError(try CalendarKind.noLeap.dayNumber(year: 2000, month: 2, day: 29))
        XCTAssertNoThrow(try CalendarKind.allLeap.dayNumber(year: 2001, month: 2, day: 29))
        XCTAssertNoThrow(try CalendarKind.day360.dayNumber(year: 2001, month: 2, day: 30))
        XCTAssertThrowsError(try CalendarKind.day360.dayNumber(year: 2001, month: 1, day: 31))
    }

    /// Every calendar: dayNumber and date(dayNumber:) are inverse over 1500–2100 and days are consecutive.
    func testRoundTripAndContinuityInEveryCalendar() throws {
        for cal in CalendarKind.allCases {
            var previous: Int? = nil
            for year in stride(from: 1500, through: 2100, by: 1) {
                for month in 1...12 {
                    for day in 1...cal.daysInMonth(year: year, month: month) {
                        if cal == .standard && year == 1582 && month == 10 && (5...14).contains(day) { continue }
                        let n = try cal.dayNumber(year: year, month: month, day: day)
                        if let p = previous { XCTAssertEqual(n, p + 1, "\(cal) \(year)-\(month)-\(day)") }
                        previous = n
                        let d = cal.date(dayNumber: n)
                        XCTAssertTrue(d == (year, month, day), "\(cal) \(year)-\(month)-\(day) -> \(d)")
                    }
                }
            }
        }
    }

    func testYearLengths() throws {
        func length(_ cal: CalendarKind, _ y: Int) throws -> Int {
            try cal.dayNumber(year: y + 1, month: 1, day: 1) - cal.dayNumber(year: y, month: 1, day: 1)
        }
        XCTAssertEqual(try length(.standard, 1582), 355)
        XCTAssertEqual(try length(.standard, 1900), 365)
        XCTAssertEqual(try length(.julian, 1900), 366)
        XCTAssertEqual(try length(.noLeap, 2000), 365)
        XCTAssertEqual(try length(.allLeap, 2001), 366)
        XCTAssertEqual(try length(.day360, 2000), 360)
    }

    func testUnitsParsing() throws {
        let u = try TimeUnits(parsing: "hours since 1900-1-1 06:30:00")
        XCTAssertEqual(u.unit, .hours)
        XCTAssertEqual(u.reference, CFDateTime(year: 1900, month: 1, day: 1, hour: 6, minute: 30))
        XCTAssertEqual(try TimeUnits(parsing: "seconds since 1970-01-01T00:00:00Z").reference, CFDateTime(year: 1970))
        XCTAssertEqual(try TimeUnits(parsing: "days since 1850-01-01 00:00:00 UTC").unit, .days)
        XCTAssertEqual(try TimeUnits(parsing: "day since 1850-1-1").unit, .days)
        XCTAssertThrowsError(try TimeUnits(parsing: "months since 1850-01-01"))
        XCTAssertThrowsError(try TimeUnits(parsing: "K"))
        XCTAssertThrowsError(try TimeUnits(parsing: "days since yesterday"))
        XCTAssertThrowsError(try TimeAxis(unitsString: "days since 1850-01-01", calendarName: "lunar", values: [0]))
        XCTAssertThrowsError(try TimeAxis(unitsString: "days since 1582-10-10", calendarName: "standard", values: [0]))
    }

    func testOffsetsAcrossTheGregorianReform() throws {
        let axis = try TimeAxis(unitsString: "days since 1582-10-01", calendarName: "gregorian", values: [3, 4, 5])
        XCTAssertEqual(axis.dates.map(\.dateString), ["1582-10-04", "1582-10-15", "1582-10-16"])
        let pro = try TimeAxis(unitsString: "days since 1582-10-01", calendarName: "proleptic_gregorian", values: [4])
        XCTAssertEqual(pro.date(at: 0).dateString, "1582-10-05")
    }

    func testHoursSinceAndFractionalDays() throws {
        let axis = try TimeAxis(unitsString: "hours since 2000-02-28 00:00:00", calendarName: "noleap", values: [0, 18, 36])
        XCTAssertEqual(axis.date(at: 2), CFDateTime(year: 2000, month: 3, day: 1, hour: 12))
        XCTAssertEqual(axis.date(at: 1), CFDateTime(year: 2000, month: 2, day: 28, hour: 18))
        XCTAssertEqual(try axis.offset(of: CFDateTime(year: 2000, month: 3, day: 1, hour: 12)), 36)
        let leap = try TimeAxis(unitsString: "hours since 2000-02-28", calendarName: "standard", values: [36])
        XCTAssertEqual(leap.date(at: 0), CFDateTime(year: 2000, month: 2, day: 29, hour: 12))
        let d360 = try TimeAxis(unitsString: "days since 2000-02-29", calendarName: "360_day", values: [1, 2])
        XCTAssertEqual(d360.dates.map(\.dateString), ["2000-02-30", "2000-03-01"])
    }

    func testMonthlyAxis() {
        for cal in CalendarKind.allCases {
            let axis = TimeAxis.monthly(startYear: 1850, endYear: 2005, calendar: cal)
            XCTAssertEqual(axis.count, 156 * 12)
            XCTAssertEqual(axis.monthsOfYear.prefix(13), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1])
            XCTAssertEqual(axis.years.first, 1850); XCTAssertEqual(axis.years.last, 2005)
            XCTAssertEqual(axis.stepDescription, "monthly")
            XCTAssertEqual(axis.bounds?.first, [0, cal == .day360 ? 30 : 31])
            // Contiguous bounds and mid-month values.
            let b = axis.bounds!
            for i in 1..<b.count { XCTAssertEqual(b[i][0], b[i - 1][1]) }
            for i in 0..<axis.count { XCTAssertEqual(axis.values[i], 0.5 * (b[i][0] + b[i][1])) }
            XCTAssertEqual(axis.indices(fromYear: 1991, toYear: 1991).count, 12)
        }
        let noleap = TimeAxis.monthly(startYear: 1850, endYear: 1850, calendar: .noLeap)
        XCTAssertEqual(noleap.bounds?.last?[1], 365)
        let d360 = TimeAxis.monthly(startYear: 1850, endYear: 1850, calendar: .day360)
        XCTAssertEqual(d360.values[1], 45)
    }

    func testCalendarAliases() {
        XCTAssertEqual(CalendarKind(cfName: "Gregorian"), .standard)
        XCTAssertEqual(CalendarKind(cfName: "365_day"), .noLeap)
        XCTAssertEqual(CalendarKind(cfName: "366_day"), .allLeap)
        XCTAssertNil(CalendarKind(cfName: "none"))
    }

    /// Repeated, backward and undated values are refused with the step and its date.
    func testValuesMustBeStrictlyIncreasingAndFinite() {
        func message(_ values: [Double]) -> String? {
            do { _ = try TimeAxis(unitsString: "days since 2000-01-01", calendarName: "360_day", values: values); return nil }
            catch { return "\(error)" }
        }
        XCTAssertNil(message([15, 45, 75]))
        XCTAssertEqual(message([15, 45, 45]),
                       "time values are not strictly increasing: step 2 (2000-02-16 00:00:00) repeats step 1 (2000-02-16 00:00:00); sort by time and drop duplicates (e.g. cdo sorttimestamp)")
        XCTAssertTrue(message([75, 45, 15])?.hasPrefix("time values are not strictly increasing: step 1 (2000-02-16 00:00:00) comes before step 0") ?? false)
        XCTAssertTrue(message([15, .nan, 75])?.hasPrefix("time value nan at step 1 is not a valid time") ?? false)
        XCTAssertTrue(message([15, 9.96921e36])?.hasPrefix("time value 9.96921e+36 at step 1 is not a valid time") ?? false)
        XCTAssertThrowsError(try TimeAxis(unitsString: "days since 2000-01-01", calendarName: nil, values: [15, 45],
                                          bounds: [[0, 30], [60, 30]]))
    }

    /// Frequencies from the dates, in every calendar, whatever the day within the month.
    func testFrequencyRecognisedFromDates() throws {
        for cal in CalendarKind.allCases {
            XCTAssertEqual(TimeAxis.monthly(startYear: 1850, endYear: 1852, calendar: cal).frequency, .monthly, "\(cal)")
        }
        func axis(_ values: [Double], units: String = "days since 1850-01-01", bounds: [[Double]]? = nil) throws -> TimeAxis {
            try TimeAxis(unitsString: units, calendarName: "standard", values: values, bounds: bounds)
        }
        // Month starts (some files stamp the first day) are monthly too.
        XCTAssertEqual(try axis([0, 31, 59, 90]).frequency, .monthly)
        XCTAssertEqual(try axis((0..<5).map { 182.5 + 365.25 * Double($0) }).frequency, .annual)
        XCTAssertEqual(try axis((0..<40).map { Double($0) + 0.5 }).frequency, .daily)
        XCTAssertEqual(try axis((0..<40).map { Double($0) * 6 }, units: "hours since 1850-01-01").frequency, .subdaily)
        // A missing month (March) breaks the series at step 2.
        let gap = try axis([15.5, 45, 105.5, 135])
        XCTAssertEqual(gap.frequency, .irregular)
        XCTAssertEqual(gap.firstStepBreaking(.monthly), 2)
        // One step: its bounds tell.
        XCTAssertEqual(try axis([15.5], bounds: [[0, 31]]).frequency, .monthly)
        XCTAssertEqual(try axis([15.5]).frequency, .irregular)
    }

    /// Without bounds in the input, monthly values get the edges of their calendar month and
    /// annual values those of their year, in every calendar; not midpoints between values.
    func testCellBoundsAreCalendarMonthsAndYearsInEveryCalendar() throws {
        for cal in CalendarKind.allCases {
            // Values a few days off mid-month (as CDO's monmean puts them), bounds dropped.
            var monthly = TimeAxis.monthly(startYear: 1999, endYear: 2001, calendar: cal)
            let expected = try XCTUnwrap(monthly.bounds)
            monthly.values = monthly.values.enumerated().map { k, v in v + Double(k % 3) - 1 }
            monthly.bounds = nil
            XCTAssertEqual(monthly.frequency, .monthly, "\(cal)")
            XCTAssertEqual(monthly.cellBounds, expected, "\(cal)")
            // February 2000: 29 days (28 in noleap, 30 in 360_day, 29 in all_leap/julian/standard).
            let february = monthly.cellBounds[13]
            XCTAssertEqual(february[1] - february[0], Double(cal.daysInMonth(year: 2000, month: 2)), "\(cal)")

            let origin = try cal.dayNumber(year: 1850, month: 1, day: 1)
            let years = 1850...1853
            let starts = try years.map { Double(try cal.dayNumber(year: $0, month: 1, day: 1) - origin) }
            let ends = try years.map { Double(try cal.dayNumber(year: $0 + 1, month: 1, day: 1) - origin) }
            let annual = TimeAxis(units: TimeUnits(unit: .days, reference: CFDateTime(year: 1850)), calendar: cal,
                                  values: zip(starts, ends).map { 0.5 * ($0 + $1) + 3 })
            XCTAssertEqual(annual.frequency, .annual, "\(cal)")
            XCTAssertEqual(annual.cellBounds, zip(starts, ends).map { [$0, $1] }, "\(cal)")
        }
        // Bounds in the input are kept; irregular steps fall back to midpoints.
        let given = TimeAxis(units: TimeUnits(unit: .days, reference: CFDateTime(year: 2000)), calendar: .standard,
                             values: [1, 2], bounds: [[0.5, 1.5], [1.5, 2.5]])
        XCTAssertEqual(given.cellBounds, [[0.5, 1.5], [1.5, 2.5]])
        let daily = TimeAxis(units: TimeUnits(unit: .days, reference: CFDateTime(year: 2000)), calendar: .noLeap, values: [0.5, 1.5, 2.5])
        XCTAssertEqual(daily.cellBounds, [[0, 1], [1, 2], [2, 3]])
    }
}
