import XCTest
import Foundation
import Climate
@testable import Diagnostics

final class ReportTests: XCTestCase {
    static let grid = Grid.regular(latitudeCount: 12, longitudeCount: 24)

    /// Reference (members 100…), generated (members 200…) and the conditioning member
    /// (member 0) from one synthetic climate, 1980–1999 (El Chichón and Pinatubo inside).
    func makeEnsembles() throws -> (EnsembleFields, EnsembleFields, EnsembleFields) {
        let ref = try Synthetic.climate(grid: Self.grid, members: 5, startYear: 1980, years: 20, seed: 9, name: "reference", memberOffset: 100)
        let gen = try Synthetic.climate(grid: Self.grid, members: 4, startYear: 1980, years: 20, seed: 9, name: "generated", memberOffset: 200)
        let cond = try Synthetic.climate(grid: Self.grid, members: 1, startYear: 1980, years: 20, seed: 9, name: "conditioning")
        return (ref, gen, cond)
    }

    func testEvaluationReportJSONRoundTripsWithStableKeys() throws {
        let (ref, gen, cond) = try makeEnsembles()
        // A "copy" candidate: the conditioning member plus small noise in every member must
        // show a Niño3.4 correlation near 1, unlike the independent generated members.
        var copies = try Synthetic.climate(grid: Self.grid, members: 3, startYear: 1980, years: 20, seed: 77, noiseScale: 0.2, name: "copies")
        let n = Self.grid.cellCount * copies.timeCount
        for m in 0..<3 { for i in 0..<n { copies.values[m * n + i] = cond.values[i] + 0.2 * (copies.values[m * n + i] - 288) } }
        let options = DiagnosticOptions(spectrumSegmentMonths: 120, eofModeCount: 4, verificationTimeStride: 2)
        let report = try EnsembleEvaluation.compare(generated: gen, reference: ref, baseline: copies, conditioningMember: cond, options: options)
        XCTAssertEqual(report.summary.candidates.map(\.name), ["generated", "copies"])

        let data = try report.json()
        let decoded = try JSONDecoder().decode(EvaluationSummary.self, from: data)
        XCTAssertEqual(decoded.candidates.count, 2)
        XCTAssertEqual(decoded.candidates[0].verification, report.summary.candidates[0].verification)
        XCTAssertEqual(decoded.reference.nino34, report.summary.reference.nino34)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["schemaVersion", "reference", "candidates"])
        let cand = try XCTUnwrap((object["candidates"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(cand.keys), ["name", "verification", "comparison", "nino34", "variability", "diagnostics"])
        let comparison = try XCTUnwrap(cand["comparison"] as? [String: Any])
        XCTAssertEqual(Set(comparison.keys), ["spreadRatio", "ensembleMeanRMSE", "ensembleMeanRMSEExpected", "ensembleMeanBias"])

        // Same-distribution candidate: spread ratio near 1; the copies are far less spread.
        let g = report.summary.candidates[0], c = report.summary.candidates[1]
        XCTAssertEqual(g.comparison.spreadRatio, 1, accuracy: 0.2)
        XCTAssertLessThan(c.comparison.spreadRatio, 0.5)
        let gc = try XCTUnwrap(g.nino34.conditioningCorrelation), cc = try XCTUnwrap(c.nino34.conditioningCorrelation)
        XCTAssertLessThan(abs(gc.mean), 2 * gc.independenceBound95)
        XCTAssertGreaterThan(cc.minimum, 0.9)
        XCTAssertGreaterThan(g.nino34.regressionPatternCorrelation, 0.8)
        XCTAssertGreaterThan(g.variability.eof1PatternCorrelation, 0.8)
        XCTAssertEqual(report.summary.reference.volcanic.map(\.name), ["El Chichón", "Pinatubo", "composite"])

        let md = report.markdown
        XCTAssertTrue(md.hasPrefix("# Ensemble evaluation"))
        XCTAssertTrue(md.contains("| spread ratio (std / reference std) | 1 |"))
        XCTAssertTrue(md.contains("## Diagnostics: reference"))
        XCTAssertTrue(md.contains("### Niño3.4"))
    }

    func testDiagnosticsOfSingleMemberAndMaskValidation() throws {
        let (_, _, cond) = try makeEnsembles()
        let land = (0..<Self.grid.cellCount).map { Self.grid.latitudes[$0 / 24] > 30 }
        let d = try EnsembleDiagnostics.compute(cond, options: DiagnosticOptions(ninoDetrending: .ensembleMean, spectrumSegmentMonths: 120, eofModeCount: 3, landMask: land))
        XCTAssertEqual(d.summary.ninoDetrending, .linear)   // one member: falls back to linear
        XCTAssertNotNil(d.summary.autocorrelation.lag1Land)
        // The synthetic noise has φ = 0.6 at every cell (ENSO adds memory in the tropics).
        XCTAssertEqual(try XCTUnwrap(d.summary.autocorrelation.lag1Land), 0.6, accuracy: 0.1)
        XCTAssertThrowsError(try EnsembleDiagnostics.compute(cond, options: DiagnosticOptions(landMask: [true])))
        let json = String(decoding: try d.json(), as: UTF8.self)
        XCTAssertTrue(json.contains("\"peakPeriodYears\""))
    }
}
