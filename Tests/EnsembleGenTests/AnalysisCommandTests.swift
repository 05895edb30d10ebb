import Climate
import Diagnostics
import Foundation
import TestEnvironment
import XCTest
@testable import EnsembleGen

/// diagnose, baseline and evaluate end to end through the built binary on a small simulated
/// ensemble (8 members, 1850–1900, 16x32) and on its annual means: the commands run, write
/// their reports and a CF-valid baseline file, and fail cleanly on bad member lists.
final class AnalysisCommandTests: XCTestCase {
    static var directory: URL!
    static var ensemble: String { directory.appendingPathComponent("ens.nc").path }
    /// The calendar-year means of `ensemble` (51 annual steps).
    static var annualEnsemble: String { directory.appendingPathComponent("ens-annual.nc").path }

    override class func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("analysis-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try? SimulatePipeline.run(.init(memberCount: 8, startYear: 1850, endYear: 1900, latitudeCount: 16,
                                            longitudeCount: 32, seed: 3, output: ensemble, commandLine: ["test"]))
        try? writeAnnualMeans(of: ensemble, to: annualEnsemble)
    }
    override class func tearDown() { try? FileManager.default.removeItem(at: directory) }
    func path(_ name: String) -> String { Self.directory.appendingPathComponent(name).path }

    func testDiagnoseWritesReportAndFigures() throws {
        let r = try runProcess(try ensemblegenExecutable(), ["diagnose", Self.ensemble, "--output", path("diag")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("members: 8"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Niño3.4: std"), r.stdout)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("diag/report.json")))) as? [String: Any]
        XCTAssertNotNil(json?["nino34"])
        let pngs = try FileManager.default.contentsOfDirectory(atPath: path("diag")).filter { $0.hasSuffix(".png") }
        XCTAssertGreaterThanOrEqual(pngs.count, 5)
    }

    func testBaselineThenEvaluate() throws {
        let exe = try ensemblegenExecutable()
        let b = try runProcess(exe, ["baseline", "--training", Self.ensemble, "--training-members", "0-5", "--members", "4",
                                     "--modes", "20", "--quiet", "--output", path("base.nc")])
        XCTAssertEqual(b.status, 0, b.stderr)
        let reader = try EnsembleReader(path: path("base.nc"))
        XCTAssertEqual(reader.memberCount, 4)
        XCTAssertTrue(reader.grid.matches(try EnsembleReader(path: Self.ensemble).grid))
        let e = try runProcess(exe, ["evaluate", "--generated", path("base.nc"), "--reference", Self.ensemble,
                                     "--reference-members", "6-7", "--training", Self.ensemble, "--training-members", "0-5",
                                     "--conditioning-member", "0", "--output", path("eval")])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("generated"), e.stdout)
        XCTAssertTrue(e.stdout.contains("training"), e.stdout)
        // Baseline alone (no generated ensemble yet) is scored under its own name.
        let only = try runProcess(exe, ["evaluate", "--baseline", path("base.nc"), "--reference", Self.ensemble,
                                        "--reference-members", "6-7", "--output", path("eval-baseline")])
        XCTAssertEqual(only.status, 0, only.stderr)
        XCTAssertTrue(only.stdout.contains("baseline"), only.stdout)
        let none = try runProcess(exe, ["evaluate", "--reference", Self.ensemble, "--output", path("eval-none")])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("nothing to evaluate"), none.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("eval/report.md")))
        let r = try runCheckCF(path("base.nc"))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }

    func testBadMemberListFailsWithOneLine() throws {
        let r = try runProcess(try ensemblegenExecutable(), ["diagnose", Self.ensemble, "--members", "0-99", "--output", path("x")])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("member 8 does not exist"), r.stderr)
    }

    func testMemberSelection() throws {
        XCTAssertEqual(try MemberSelection.parse("0-2,5", count: 6, file: "f"), [0, 1, 2, 5])
        XCTAssertThrowsError(try MemberSelection.parse("3-1", count: 6, file: "f"))
        XCTAssertThrowsError(try MemberSelection.parse("a", count: 6, file: "f"))
    }

    /// The annual means of the simulation through `diagnose`: counts in years, the trend of
    /// the monthly file within its sampling error, monthly-only metrics null and named in
    /// one line, valid JSON, every listed figure on disk and the annual time axes in years.
    func testDiagnoseAnnualMeans() throws {
        let exe = try ensemblegenExecutable()
        let monthly = try runProcess(exe, ["diagnose", Self.ensemble, "--output", path("diag-monthly")])
        XCTAssertEqual(monthly.status, 0, monthly.stderr)
        let annual = try runProcess(exe, ["diagnose", Self.annualEnsemble, "--output", path("diag-annual")])
        XCTAssertEqual(annual.status, 0, annual.stderr)
        let text = annual.stdout
        XCTAssertTrue(text.contains("members: 8, 51 years (1850–1900)"), text)
        XCTAssertTrue(text.contains("per century over 1850–1900"), text)
        XCTAssertTrue(text.contains("Nyquist 0.5 cycles/yr"), text)
        XCTAssertNil(text.range(of: #"\d+ months"#, options: .regularExpression), text)
        XCTAssertEqual(text.components(separatedBy: "\n").filter { $0.hasPrefix("Not computed on annual data (they need monthly data): ") }.count, 1, text)
        assertNoNonFiniteWord(text)
        let files = try assertListedFilesExist(text)
        XCTAssertTrue(files.contains { $0.hasSuffix("/volcanic_composites.png") }, text)   // Krakatoa 1883
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("diag-annual/nino34_std_by_month.png")))

        let m = try validReport(path("diag-monthly/report.json")), a = try validReport(path("diag-annual/report.json"))
        XCTAssertEqual(a["timeStep"] as? String, "year")
        XCTAssertEqual(a["timeCount"] as? Int, 51)
        XCTAssertTrue((a["nino34"] as? [String: Any])?["standardDeviationByMonth"] is NSNull)
        XCTAssertTrue((a["autocorrelation"] as? [String: Any])?["lag12"] is NSNull)
        XCTAssertNotNil((a["autocorrelation"] as? [String: Any])?["lag1"] as? Double)
        let spectrum = try XCTUnwrap((a["nino34"] as? [String: Any])?["spectrum"] as? [String: Any])
        XCTAssertEqual((spectrum["frequencies"] as? [Double])?.last, 0.5)
        let krakatoa = try XCTUnwrap((a["volcanic"] as? [[String: Any]])?.first { $0["name"] as? String == "Krakatoa" })
        XCTAssertEqual(krakatoa["lagUnit"] as? String, "year")
        XCTAssertEqual(krakatoa["lags"] as? [Int], [-1, 0, 1, 2, 3, 4])

        // The same simulation averaged by calendar year: the annual global means are the
        // monthly report's up to Float32 rounding of the file (1e-3 K is 100 ulps at 288 K),
        // and the trends agree within twice the standard error of the monthly trend.
        let gm = try XCTUnwrap(m["globalMean"] as? [String: Any]), ga = try XCTUnwrap(a["globalMean"] as? [String: Any])
        let years = try XCTUnwrap(gm["years"] as? [Int]), means = try XCTUnwrap(gm["ensembleMean"] as? [Double])
        XCTAssertEqual(ga["years"] as? [Int], years)
        let annualMeans = try XCTUnwrap(ga["ensembleMean"] as? [Double])
        XCTAssertEqual(annualMeans.count, means.count)
        for (x, y) in zip(annualMeans, means) { XCTAssertEqual(x, y, accuracy: 1e-3) }
        let trend = try XCTUnwrap(gm["trendPerCentury"] as? Double), annualTrend = try XCTUnwrap(ga["trendPerCentury"] as? Double)
        let fit = try XCTUnwrap(Statistics.linearTrend(x: years.map(Double.init), y: means))
        XCTAssertEqual(annualTrend, trend, accuracy: 2 * 100 * fit.standardError)
    }

    /// `evaluate` on annual files: valid JSON with the monthly-only comparisons null, the
    /// one line naming them, every listed figure on disk; the baseline stays monthly.
    func testEvaluateAnnualMeans() throws {
        let exe = try ensemblegenExecutable()
        let e = try runProcess(exe, ["evaluate", "--generated", Self.annualEnsemble, "--generated-members", "0-3",
                                     "--reference", Self.annualEnsemble, "--reference-members", "4-7",
                                     "--conditioning-member", "0", "--output", path("eval-annual")])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("reference: 4 members × 51 years (1850–1900)"), e.stdout)
        XCTAssertTrue(e.stdout.contains("Not computed on annual data (they need monthly data): "), e.stdout)
        assertNoNonFiniteWord(e.stdout)
        let files = try assertListedFilesExist(e.stdout)
        XCTAssertFalse(files.contains { $0.hasSuffix("nino34_std_by_month.png") }, e.stdout)
        let report = try validReport(path("eval-annual/report.json"))
        let candidate = try XCTUnwrap((report["candidates"] as? [[String: Any]])?.first)
        XCTAssertTrue((candidate["nino34"] as? [String: Any])?["standardDeviationByMonthRMSE"] is NSNull)
        XCTAssertTrue((candidate["variability"] as? [String: Any])?["lag12"] is NSNull)
        XCTAssertNotNil((candidate["variability"] as? [String: Any])?["volcanicCompositeRMSE"] as? Double)
        let md = try String(contentsOfFile: path("eval-annual/report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("lag-1 autocorrelation (1 year)"), md)
        XCTAssertFalse(md.contains("lag-12 autocorrelation"), md)

        // Annual against monthly is refused; the baseline (monthly AR(1)) refuses annual data.
        let mixed = try runProcess(exe, ["evaluate", "--generated", Self.annualEnsemble, "--reference", Self.ensemble,
                                         "--output", path("eval-mixed")])
        XCTAssertEqual(mixed.status, 1)
        XCTAssertEqual(mixed.stderr.split(separator: "\n").count, 1, mixed.stderr)
        let b = try runProcess(exe, ["baseline", "--training", Self.annualEnsemble, "--quiet", "--output", path("base-annual.nc")])
        XCTAssertEqual(b.status, 1)
        XCTAssertTrue(b.stderr.contains("\(Self.annualEnsemble): time: annual data; this command needs monthly data"), b.stderr)
    }

    /// A real CMIP6 annual file (one member, 165 years, 20×20) through `diagnose`.
    func testDiagnoseCMIP6AnnualFile() throws {
        let input = try sharedData(["cmip6-ng/tas_ann_IPSL-CM6A-LR_historical_r1i1p1f1_g025.nc"])[0].path
        let r = try runProcess(try ensemblegenExecutable(), ["diagnose", input, "--output", path("diag-cmip6")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("members: 1, 165 years (1850–2014)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("K per century over 1850–2014"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Pinatubo: ensemble-mean global cooling"), r.stdout)
        assertNoNonFiniteWord(r.stdout)
        try assertListedFilesExist(r.stdout)
        let report = try validReport(path("diag-cmip6/report.json"))
        XCTAssertEqual(report["timeCount"] as? Int, 165)
        XCTAssertEqual(report["firstYear"] as? Int, 1850)
        XCTAssertEqual(report["lastYear"] as? Int, 2014)
        let volcanic = try XCTUnwrap(report["volcanic"] as? [[String: Any]])
        XCTAssertEqual(volcanic.map { $0["name"] as? String }, ["Krakatoa", "Santa María", "Novarupta", "Agung", "El Chichón", "Pinatubo", "composite"])
        let trend = try XCTUnwrap((report["globalMean"] as? [String: Any])?["trendPerCentury"] as? Double)
        XCTAssertTrue(r.stdout.contains(String(format: "global-mean trend: %.2f K per century", trend)), r.stdout)
    }

    /// The report parsed with JSONSerialization, with no number written as a string.
    func validReport(_ file: String, line: UInt = #line) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], line: line)
        func strings(_ x: Any) -> [String] {
            if let s = x as? String { return [s] }
            if let a = x as? [Any] { return a.flatMap(strings) }
            if let d = x as? [String: Any] { return d.values.flatMap(strings) }
            return []
        }
        let nonFinite = strings(object).filter { ["nan", "inf", "infinity", "-infinity"].contains($0.lowercased()) }
        XCTAssertEqual(nonFinite, [], "\(file) holds non-finite numbers as strings", line: line)
        return object
    }

    /// The files of the "wrote …" line, each of which must exist.
    @discardableResult
    func assertListedFilesExist(_ text: String, line: UInt = #line) throws -> [String] {
        let wrote = try XCTUnwrap(text.components(separatedBy: "\n").first { $0.hasPrefix("wrote ") }, text, line: line)
        let files = wrote.dropFirst("wrote ".count).components(separatedBy: ", ")
        XCTAssertTrue(files.contains { $0.hasSuffix("gmst_envelope.png") }, wrote, line: line)
        for f in files { XCTAssertTrue(FileManager.default.fileExists(atPath: f), "listed but missing: \(f)", line: line) }
        return files
    }

    func assertNoNonFiniteWord(_ text: String, line: UInt = #line) {
        let found = text.range(of: #"(?i)(?<![A-Za-z])[-+]?(nan|inf|infinity)(?![A-Za-z])"#, options: .regularExpression)
        XCTAssertNil(found, "a non-finite figure printed:\n\(text)", line: line)
        XCTAssertFalse(text.contains("0–0"), text, line: line)
    }
}

/// Writes the calendar-year means (months weighted equally) of the monthly file `monthly`
/// to `annual`: one step per year at mid-year with the year as bounds, every member kept.
func writeAnnualMeans(of monthly: String, to annual: String) throws {
    let m = try EnsembleReader.read(paths: [monthly])
    let years = Array(Set(m.time.years)).sorted()
    let T = m.timeCount, n = m.grid.cellCount
    guard T == 12 * years.count, m.time.frequency == .monthly else {
        throw CFError(file: monthly, "\(T) steps over \(years.count) years: annual means need whole years of monthly data")
    }
    var data = [Float]()
    data.reserveCapacity(m.memberCount * years.count * n)
    for k in 0..<m.memberCount {
        for y in years.indices {
            for c in 0..<n {
                var sum = 0.0
                for month in 0..<12 { sum += Double(m.data[(k * T + 12 * y + month) * n + c]) }
                data.append(Float(sum / 12))
            }
        }
    }
    let bounds = try years.map { [try m.time.offset(of: CFDateTime(year: $0)), try m.time.offset(of: CFDateTime(year: $0 + 1))] }
    let time = TimeAxis(units: m.time.units, calendar: m.time.calendar, values: bounds.map { ($0[0] + $0[1]) / 2 }, bounds: bounds)
    try EnsembleWriter.write(try Ensemble(variable: m.variable, grid: m.grid, time: time, members: m.members, data: data),
                             to: annual, attributes: OutputAttributes(title: "annual means", source: "test", history: "test"))
}
