import XCTest
import Climate
import RandomStreams
@testable import Diagnostics

final class BaselineTests: XCTestCase {
    /// Training ensemble: a common forced trend plus AR(1) noise with φ = 0.3 in the
    /// south and 0.8 in the north, unit stationary variance, innovations correlated
    /// between longitude neighbours.
    func makeTraining(grid: Grid, members K: Int, months T: Int) throws -> EnsembleFields {
        let n = grid.cellCount, nlon = grid.longitudeCount
        var v = [Float](repeating: 0, count: K * T * n)
        let phi = (0..<n).map { grid.latitudes[$0 / nlon] < 0 ? 0.3 : 0.8 }
        let root = RandomStream(seed: 21)
        for m in 0..<K {
            var rng = root.substream(UInt64(m))
            var a = [Double](repeating: 0, count: n)
            for t in 0..<T {
                let e = (0..<n).map { _ in rng.gaussian() }
                for c in 0..<n {
                    let j = c / nlon, i = c % nlon
                    // (e_c + e_{c+1})/√2: unit variance, neighbour correlation ½.
                    let eta = (e[c] + e[j * nlon + (i + 1) % nlon]) / 2.0.squareRoot()
                    a[c] = t == 0 ? eta : phi[c] * a[c] + (1 - phi[c] * phi[c]).squareRoot() * eta
                    v[(m * T + t) * n + c] = Float(280 + 0.02 * Double(t) + a[c])
                }
            }
        }
        return try EnsembleFields(values: v, memberCount: K, timeCount: T, grid: grid,
                                  monthsOfYear: (0..<T).map { $0 % 12 + 1 }, years: (0..<T).map { 1900 + $0 / 12 }, name: "training")
    }

    func testGeneratedNoiseHasTargetLag1AndVariance() throws {
        let grid = Grid.regular(latitudeCount: 6, longitudeCount: 12)
        let n = grid.cellCount
        let training = try makeTraining(grid: grid, members: 8, months: 240)
        let model = try StatisticalBaseline.fit(training: training, modeCount: 20)
        XCTAssertEqual(model.validCells.count, n)
        // Fitted φ against the truth: SE √((1−φ²)/N) with N = 8 × 240; 5 SE.
        let Ntrain = 8.0 * 240
        for c in 0..<n {
            let truth = grid.latitudes[c / 12] < 0 ? 0.3 : 0.8
            XCTAssertEqual(model.lag1[c], truth, accuracy: 5 * ((1 - truth * truth) / Ntrain).squareRoot() + 2 / Ntrain)
        }
        // Generate 20 members of 300 months around a zero forced component.
        let K = 20, T = 300
        let forced = [Float](repeating: 0, count: T * n)
        let members = try model.generate(memberCount: K, forced: forced, seed: 7)
        let N = Double(K * T)
        for c in 0..<n {
            var s0 = 0.0, s1 = 0.0
            for m in 0..<K { for t in 0..<T {
                let x = Double(members[(m * T + t) * n + c])
                s0 += x * x
                if t + 1 < T { s1 += x * Double(members[(m * T + t + 1) * n + c]) }
            } }
            let phi = model.lag1[c], variance = model.variance[c]
            // Lag-1 estimate SE √((1−φ²)/N); variance (known mean 0) relative SE
            // √(2(1+φ²)/((1−φ²)N)) for AR(1). 5 SE per cell (72 cells: false-alarm odds ~4e-5).
            XCTAssertEqual(s1 / s0, phi, accuracy: 5 * ((1 - phi * phi) / N).squareRoot(), "lag-1 at cell \(c)")
            let relSE = (2 * (1 + phi * phi) / ((1 - phi * phi) * N)).squareRoot()
            XCTAssertEqual(s0 / N / variance, 1, accuracy: 5 * relSE, "variance at cell \(c)")
            // Target variance is the training's: unit (relative SE of the fit √(2(1+φ²)/((1−φ²)N_train))).
            XCTAssertEqual(variance, 1, accuracy: 5 * (2 * (1 + phi * phi) / ((1 - phi * phi) * Ntrain)).squareRoot())
        }
        // Neighbour correlation of the innovations is ½ in training; the generated anomalies
        // of neighbours must be positively correlated too (the covariance is carried over).
        var sxy = 0.0, sxx = 0.0
        for m in 0..<K { for t in 0..<T {
            let b = (m * T + t) * n
            sxy += Double(members[b + 30]) * Double(members[b + 31]); sxx += Double(members[b + 30]) * Double(members[b + 30])
        } }
        XCTAssertGreaterThan(sxy / sxx, 0.3)
    }

    func testMembersAreReproducibleAndIndependentOfCount() throws {
        let grid = Grid.regular(latitudeCount: 4, longitudeCount: 8)
        let training = try makeTraining(grid: grid, members: 4, months: 60)
        let model = try StatisticalBaseline.fit(training: training, modeCount: 5)
        let forced = StatisticalBaseline.ensembleMean(of: training)
        let three = try model.generate(memberCount: 3, forced: forced, seed: 99)
        let two = try model.generate(memberCount: 2, forced: forced, seed: 99)
        XCTAssertEqual(Array(three[0..<two.count]), two)
        let second = try model.generateMember(1, forced: forced, seed: 99)
        XCTAssertEqual(Array(three[forced.count..<(2 * forced.count)]), second)
        XCTAssertNotEqual(try model.generateMember(1, forced: forced, seed: 100), second)
        XCTAssertThrowsError(try model.generateMember(0, forced: [1, 2, 3], seed: 1))
        let ens = try model.ensemble(memberCount: 3, forced: forced, seed: 99, timeLike: training)
        XCTAssertEqual(ens.values, three)
        XCTAssertEqual(ens.name, "baseline")
    }

    func testSmoothedForcedComponentFollowsTrend() throws {
        let grid = Grid.regular(latitudeCount: 2, longitudeCount: 4)
        let training = try makeTraining(grid: grid, members: 1, months: 360)
        let forced = StatisticalBaseline.smoothedForcedComponent(of: training, windowMonths: 121)
        // Trend 0.02 K/month: the smoothed series rises by 0.02 × 120 = 2.4 K between months
        // 120 and 240. Southern cells have φ = 0.3: a 121-month mean of unit-variance AR(1)
        // noise has variance ≈ (1+φ)/(1−φ)/121 = 0.015, so the difference of two disjoint
        // windows has SE ≈ 0.175; allow 4 SE.
        for c in 0..<4 {
            XCTAssertEqual(Double(forced[240 * 8 + c] - forced[120 * 8 + c]), 2.4, accuracy: 0.7)
        }
    }
}
