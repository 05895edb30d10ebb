import XCTest
import Foundation
import Climate
@testable import Diagnostics

/// Timing at the evaluation protocol's scale (32×64, 1850–2005). Opt-in because it needs a
/// release build: `DIAGNOSTICS_PERF=1 swift test -c release --filter PerformanceTests`.
final class PerformanceTests: XCTestCase {
    func testEvaluationAtProtocolScale() throws {
        guard ProcessInfo.processInfo.environment["DIAGNOSTICS_PERF"] != nil else {
            throw XCTSkip("set DIAGNOSTICS_PERF=1 (and use -c release) to time diagnostics at 32×64 × 1872 months")
        }
        let grid = Grid.regular(latitudeCount: 32, longitudeCount: 64)
        var t0 = Date()
        let ref = try Synthetic.climate(grid: grid, members: 10, startYear: 1850, years: 156, seed: 1, name: "held-out", memberOffset: 30)
        let gen = try Synthetic.climate(grid: grid, members: 30, startYear: 1850, years: 156, seed: 1, noiseScale: 0.9, name: "generated", memberOffset: 100)
        let cond = try Synthetic.climate(grid: grid, members: 1, startYear: 1850, years: 156, seed: 1, name: "conditioning")
        print(String(format: "perf: synthetic data %.1f s", Date().timeIntervalSince(t0)))
        t0 = Date()
        let model = try StatisticalBaseline.fit(training: ref, modeCount: 50)
        print(String(format: "perf: baseline fit (10 members) %.1f s", Date().timeIntervalSince(t0)))
        t0 = Date()
        let forced = StatisticalBaseline.ensembleMean(of: ref)
        let base = try model.ensemble(memberCount: 30, forced: forced, seed: 5, timeLike: ref)
        print(String(format: "perf: baseline generate 30 members %.1f s", Date().timeIntervalSince(t0)))
        t0 = Date()
        let d = try EnsembleDiagnostics.compute(gen)
        print(String(format: "perf: diagnostics of 30 members %.1f s", Date().timeIntervalSince(t0)))
        t0 = Date()
        let report = try EnsembleEvaluation.compare(generated: gen, reference: ref, baseline: base, conditioningMember: cond)
        print(String(format: "perf: evaluation (generated + baseline vs 10 held-out) %.1f s", Date().timeIntervalSince(t0)))
        t0 = Date()
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["DIAGNOSTICS_FIGURE_DIR"] ?? NSTemporaryDirectory()).appendingPathComponent("perf")
        try report.writeFigures(to: dir)
        try report.json().write(to: dir.appendingPathComponent("report.json"))
        try report.markdown.write(to: dir.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)
        print(String(format: "perf: figures + report files %.1f s", Date().timeIntervalSince(t0)))
        XCTAssertEqual(d.summary.memberCount, 30)
        let b = report.summary.candidates[1]
        print("perf: baseline spread ratio \(b.comparison.spreadRatio), lag1 \(b.variability.lag1) vs \(b.variability.referenceLag1), SSR \(b.verification.spreadSkillRatio)")
    }
}
