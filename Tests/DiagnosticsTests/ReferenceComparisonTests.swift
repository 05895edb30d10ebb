import XCTest
import Foundation
import Climate
import TestEnvironment
@testable import Diagnostics

/// Compares the Swift diagnostics with the independent numpy/scipy implementation in
/// Tests/DiagnosticsOracle/reference_diagnostics.py, run with <repo>/.venv/bin/python (made by
/// Scripts/setup.sh). Data go to Python as raw little-endian float32 files plus an
/// input.json (the NetCDF writer is not part of this module); Python answers with
/// reference.json. Agreement is required to 1e-4 relative (for quantities that can be
/// near zero, such as the index series and maps, relative to the largest magnitude).
final class ReferenceComparisonTests: XCTestCase {
    func writeFloats(_ v: [Float], to url: URL) throws {
        let data = v.withUnsafeBufferPointer { Data(buffer: $0) }   // little-endian on x86-64 / arm64
        try data.write(to: url)
    }

    func testDiagnosticsAgreeWithNumpyReference() throws {
        // properscoring (a second reference for the standard CRPS) is optional locally, required in CI.
        let python = try validatorPython(importing: ["numpy", "scipy"] + (runningInCI ? ["properscoring"] : []))
        let grid = Grid.regular(latitudeCount: 16, longitudeCount: 32)
        let ens = try Synthetic.climate(grid: grid, members: 6, startYear: 1950, years: 20, seed: 3, name: "ens")
        let obs = try Synthetic.climate(grid: grid, members: 3, startYear: 1950, years: 20, seed: 3, name: "obs", memberOffset: 100)
        let base = 1955...1964, segment = 120, modes = 5

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("diag-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeFloats(ens.values, to: dir.appendingPathComponent("ensemble.f32"))
        try writeFloats(obs.values, to: dir.appendingPathComponent("observations.f32"))
        let meta: [String: Any] = [
            "memberCount": ens.memberCount, "observationMemberCount": obs.memberCount, "timeCount": ens.timeCount,
            "latitudes": grid.latitudes, "longitudes": grid.longitudes,
            "latitudeBounds": grid.latitudeBounds, "longitudeBounds": grid.longitudeBounds,
            "monthsOfYear": ens.monthsOfYear, "years": ens.years, "basePeriod": [base.lowerBound, base.upperBound],
            "detrending": "linear", "segmentLength": segment, "eofModeCount": modes,
            "ensembleFile": "ensemble.f32", "observationsFile": "observations.f32",
        ]
        try JSONSerialization.data(withJSONObject: meta).write(to: dir.appendingPathComponent("input.json"))

        let process = Process()
        process.executableURL = python
        process.arguments = [repositoryRoot.appendingPathComponent("Tests/DiagnosticsOracle/reference_diagnostics.py").path, dir.path]
        let err = Pipe()
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "reference_diagnostics.py failed: \(stderr)")
        guard process.terminationStatus == 0 else { return }
        let ref = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("reference.json"))) as? [String: Any])

        func close(_ a: Double, _ b: Double, _ what: String, scale: Double? = nil) {
            let s = scale ?? abs(b)
            XCTAssertLessThanOrEqual(abs(a - b), 1e-4 * s + 1e-12, "\(what): swift \(a) vs numpy \(b)")
        }
        func closeArrays(_ a: [Double], _ b: [Double], _ what: String) {
            XCTAssertEqual(a.count, b.count, what)
            let scale = b.map(abs).max() ?? 1
            for (x, y) in zip(a, b) { close(x, y, what, scale: scale) }
        }

        // Niño3.4 index and statistics.
        let index = try ENSO.nino34Index(ens, basePeriod: base, detrending: .linear)
        let refIndex = try XCTUnwrap(ref["nino34"] as? [[Double]])
        closeArrays(index.values, refIndex.flatMap { $0 }, "Niño3.4 index")
        let stats = try ENSO.statistics(of: index, monthsOfYear: ens.monthsOfYear, segmentLength: segment)
        let rs = try XCTUnwrap(ref["ninoStats"] as? [String: Any])
        close(stats.standardDeviation, try XCTUnwrap(rs["std"] as? Double), "Niño3.4 std")
        close(stats.skewness, try XCTUnwrap(rs["skewness"] as? Double), "Niño3.4 skewness")
        closeArrays(try XCTUnwrap(stats.standardDeviationByMonth), try XCTUnwrap(rs["stdByMonth"] as? [Double]), "std by month")
        closeArrays(stats.spectrum.frequencies, try XCTUnwrap(rs["frequencies"] as? [Double]), "frequencies")
        closeArrays(stats.spectrum.density, try XCTUnwrap(rs["density"] as? [Double]), "Welch density")
        XCTAssertGreaterThan(stats.standardDeviation, 0.1)   // the synthetic ENSO is present

        // Regression map, EOF variance fractions, autocorrelation.
        closeArrays(ENSO.regressionMap(ens, on: index, basePeriod: base), try XCTUnwrap(ref["regressionMap"] as? [Double]), "ENSO regression")
        let eof = try EOF.analyze(ens, modeCount: modes)
        let refFractions = try XCTUnwrap(ref["eofVarianceFractions"] as? [Double])
        for k in 0..<modes { close(eof.varianceFractions[k], refFractions[k], "EOF \(k + 1) variance fraction") }
        let ac = Autocorrelation.maps(ens)
        closeArrays(ac[0], try XCTUnwrap(ref["lag1"] as? [Double]), "lag-1 autocorrelation")
        closeArrays(ac[1], try XCTUnwrap(ref["lag12"] as? [Double]), "lag-12 autocorrelation")

        // Verification scores.
        let v = try Verification.score(ensemble: ens, observations: obs)
        let rv = try XCTUnwrap(ref["verification"] as? [String: Any])
        close(v.crpsFair, try XCTUnwrap(rv["crpsFair"] as? Double), "fair CRPS")
        close(v.crpsStandard, try XCTUnwrap(rv["crpsStandard"] as? Double), "standard CRPS")
        if let ps = rv["crpsStandardProperscoring"] as? Double {
            close(v.crpsStandard, ps, "standard CRPS vs properscoring")
        } else {
            print("note: properscoring not installed; standard CRPS checked against numpy only")
        }
        XCTAssertEqual(v.rankHistogram.counts, try XCTUnwrap(rv["rankCounts"] as? [Int]), "rank histogram counts")
        close(v.rankHistogram.chiSquare, try XCTUnwrap(rv["chiSquare"] as? Double), "rank χ²")
        close(v.rankHistogram.pValue, try XCTUnwrap(rv["pValue"] as? Double), "rank χ² p-value")
        close(v.spreadSkillRatio, try XCTUnwrap(rv["spreadSkillRatio"] as? Double), "spread–skill ratio")
        let cmp = try Verification.compare(ens, to: obs)
        close(cmp.spreadRatio, try XCTUnwrap(rv["spreadRatio"] as? Double), "spread ratio")
    }
}
