import XCTest
import Foundation
import Climate
@testable import Diagnostics

/// The diagnostics of annual fields: everything in years, the monthly-only metrics nil
/// (JSON null), and valid JSON when a figure is not finite.
final class AnnualTests: XCTestCase {
    static let grid = Grid.regular(latitudeCount: 12, longitudeCount: 24)

    /// Calendar-year means (months weighted equally) of monthly `f`, as annual fields.
    func annualMeans(_ f: EnsembleFields) throws -> EnsembleFields {
        let n = f.cellCount, Y = f.timeCount / 12
        var v = [Float]()
        for m in 0..<f.memberCount { for y in 0..<Y { for c in 0..<n {
            v.append(Float((0..<12).reduce(0.0) { $0 + Double(f.values[f.offset(member: m, time: 12 * y + $1) + c]) } / 12))
        } } }
        return try EnsembleFields(values: v, memberCount: f.memberCount, timeCount: Y, grid: f.grid,
                                  monthsOfYear: [Int](repeating: 7, count: Y), years: (0..<Y).map { f.years[12 * $0] },
                                  stepsPerYear: 1, name: f.name)
    }

    func testAnnualCompositeIsInYearsAfterTheEruption() throws {
        // Two members, 1985–2000: a −0.3 K step from 1992 (the year after Pinatubo, 1991-06)
        // plus an offset per member. Lag 0 is 1991, the baseline the year before.
        let T = 16, K = 2
        var g = [Double](repeating: 0, count: K * T)
        for m in 0..<K { for t in 0..<T { g[m * T + t] = 14 + Double(m) + (1985 + t >= 1992 ? -0.3 : 0) } }
        let c = try VolcanicComposite.composites(series: g, memberCount: K, monthsOfYear: [Int](repeating: 7, count: T),
                                                 years: (0..<T).map { 1985 + $0 }, stepsPerYear: 1)
        XCTAssertEqual(c.map(\.name), ["Pinatubo", "composite"])   // El Chichón 1982 is before 1985 − 1
        let p = c[0]
        XCTAssertEqual(p.lagUnit, .year)
        XCTAssertEqual(p.lags, [-1, 0, 1, 2, 3, 4])
        for (lag, x) in zip(p.lags, p.ensembleMean) { XCTAssertEqual(x, lag >= 1 ? -0.3 : 0, accuracy: 1e-12, "lag \(lag)") }
        XCTAssertEqual(p.peakLag, 1)
        XCTAssertEqual(p.peakAnomaly, -0.3, accuracy: 1e-12)
    }

    func testAnnualMeansOfASyntheticClimate() throws {
        let monthly = try Synthetic.climate(grid: Self.grid, members: 6, startYear: 1960, years: 40, seed: 4, name: "monthly")
        let annual = try annualMeans(monthly)
        let options = DiagnosticOptions(eofModeCount: 3)
        let m = try EnsembleDiagnostics.compute(monthly, options: options), a = try EnsembleDiagnostics.compute(annual, options: options)
        let s = a.summary
        XCTAssertEqual(s.timeStep, .year)
        XCTAssertEqual(s.timeCount, 40)
        XCTAssertNil(s.nino34.standardDeviationByMonth)
        XCTAssertNil(s.autocorrelation.lag12)
        XCTAssertNil(a.maps.lag12)
        XCTAssertEqual(s.nino34.spectrum.frequencies.last, 0.5)            // annual Nyquist
        XCTAssertEqual(s.nino34.spectrum.segmentLength, 40)                // 480 months = 40 years
        XCTAssertEqual(s.globalMean.years, m.summary.globalMean.years)
        // Same annual global means (Float32 rounding of the annual fields only) …
        for (x, y) in zip(s.globalMean.ensembleMean, m.summary.globalMean.ensembleMean) { XCTAssertEqual(x, y, accuracy: 1e-4) }
        // … so the trend agrees with the monthly one within its sampling error (2 SE).
        let fit = try XCTUnwrap(Statistics.linearTrend(x: m.summary.globalMean.years.map(Double.init), y: m.summary.globalMean.ensembleMean))
        let se = 100 * fit.standardError
        XCTAssertEqual(try XCTUnwrap(s.globalMean.trendPerCentury), try XCTUnwrap(m.summary.globalMean.trendPerCentury), accuracy: 2 * se)
        // The 4-year ENSO oscillator (0.25 cycles/yr) is resolved by annual sampling: its peak
        // lies within two frequency bins (1/40 cycles/yr each) of it, as the monthly one does.
        XCTAssertEqual(1 / s.nino34.peakPeriodYears, 0.25, accuracy: 2.0 / 40, "annual peak \(s.nino34.peakPeriodYears) years")
        XCTAssertEqual(1 / m.summary.nino34.peakPeriodYears, 0.25, accuracy: 2.0 / 40, "monthly peak \(m.summary.nino34.peakPeriodYears) years")

        let md = a.markdown
        XCTAssertTrue(md.contains("6 members × 40 years (1960–1999)"), md)
        XCTAssertTrue(md.contains(MonthlyOnlyMetrics.line), md)
        XCTAssertFalse(md.contains("Standard deviation by calendar month"), md)
        XCTAssertTrue(md.contains("| 1 year |"), md)
    }

    /// A figure that is not finite is written as null, never as a string; nil values as null.
    func testNonFiniteAndAbsentValuesAreJSONNull() throws {
        let monthly = try Synthetic.climate(grid: Self.grid, members: 3, startYear: 1960, years: 20, seed: 4)
        // No period of a 20-year record lies in 50–60 years: the peak is NaN.
        let d = try EnsembleDiagnostics.compute(try annualMeans(monthly), options: DiagnosticOptions(peakBand: 50...60, eofModeCount: 2))
        XCTAssertTrue(d.summary.nino34.peakPeriodYears.isNaN)
        let data = try d.json()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let nino = try XCTUnwrap(object["nino34"] as? [String: Any])
        XCTAssertTrue(nino["peakPeriodYears"] is NSNull)
        XCTAssertTrue(nino["standardDeviationByMonth"] is NSNull)
        XCTAssertTrue((object["autocorrelation"] as? [String: Any])?["lag12"] is NSNull)
        XCTAssertFalse(String(decoding: data, as: UTF8.self).contains("NaN"))
        XCTAssertFalse(d.markdown.lowercased().contains("nan"))
    }

    func testLinearTrendAndStandardError() throws {
        // y = 2 + 0.5x + (+1, −1, −1, +1): slope 0.5 + Σ(x−x̄)r/Σ(x−x̄)² = 0.5 + 0/5, Σr² = 4.
        let fit = try XCTUnwrap(Statistics.linearTrend(x: [0, 1, 2, 3], y: [3, 1.5, 2, 4.5]))
        XCTAssertEqual(fit.slope, 0.5, accuracy: 1e-12)
        XCTAssertEqual(fit.standardError, (4.0 / 2 / 5).squareRoot(), accuracy: 1e-12)
        XCTAssertNil(Statistics.linearTrend(x: [0, 1], y: [0, 1]))
        XCTAssertNil(Statistics.linearTrend(x: [1, 1, 1], y: [0, 1, 2]))
    }

    func testAnnualStepsAreValidated() {
        XCTAssertThrowsError(try EnsembleFields(values: [Float](repeating: 0, count: 2 * Self.grid.cellCount), memberCount: 1, timeCount: 2,
                                                grid: Self.grid, monthsOfYear: [7, 7], years: [2000, 2002], stepsPerYear: 1, name: "tas")) {
            XCTAssertTrue("\($0)".contains("tas: annual step 1 is year 2002 after 2000"), "\($0)")
        }
        XCTAssertThrowsError(try EnsembleFields(values: [Float](repeating: 0, count: Self.grid.cellCount), memberCount: 1, timeCount: 1,
                                                grid: Self.grid, monthsOfYear: [1], years: [2000], stepsPerYear: 4, name: "tas")) {
            XCTAssertTrue("\($0)".contains("monthly (12) or annual (1)"), "\($0)")
        }
    }
}
