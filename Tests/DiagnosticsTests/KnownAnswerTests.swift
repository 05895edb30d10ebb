import XCTest
import Climate
import RandomStreams
@testable import Diagnostics

final class KnownAnswerTests: XCTestCase {
    // MARK: spectrum

    func testSpectrumOfFourYearSinusoidPeaksAtFourYears() throws {
        let series = (0..<1920).map { sin(2 * Double.pi * Double($0) / 48 + 0.3) }
        // 480-month segments: 4 years is exactly frequency bin 10.
        let onBin = try Spectral.welch([series], segmentLength: 480)
        XCTAssertEqual(Spectral.peakPeriod(onBin), 4, accuracy: 1e-9)
        // 400-month segments: 1/4 cycle per year falls between bins 8 and 9 (bin width
        // 12/400 cycles per year); the interpolated peak must lie within half a bin.
        let offBin = try Spectral.welch([series], segmentLength: 400)
        let fPeak = 1 / Spectral.peakPeriod(offBin)
        XCTAssertEqual(fPeak, 0.25, accuracy: 0.5 * 12 / 400)
        XCTAssertEqual(offBin.segmentCount, (1920 - 200) / 200)
        // The density integrates to the window-weighted mean square, ≈ A²/2 = 0.5 for a
        // sinusoid with many cycles per segment (exact up to end effects of order 1/cycles).
        let df = onBin.frequencies[1]
        XCTAssertEqual(onBin.density.reduce(0, +) * df, 0.5, accuracy: 0.01)
    }

    func testSpectrumRejectsMissingValues() {
        XCTAssertThrowsError(try Spectral.welch([[1, 2, .nan, 4, 5, 6]], segmentLength: 4))
    }

    // MARK: verification

    /// Members and truth from one N(0,1): spread–skill ≈ 1, flat rank histogram, fair
    /// CRPS ≈ 1/√π (the CRPS of the true distribution); an under-dispersed ensemble
    /// (σ = 0.5) fails all three.
    func testCalibratedEnsembleIsReliableAndUnderdispersedIsNot() throws {
        let grid = Grid.regular(latitudeCount: 8, longitudeCount: 16)
        let m = 10, T = 120
        let ens = try Synthetic.whiteNoise(grid: grid, members: m, months: T, sigma: 1, seed: 11, name: "calibrated")
        let truth = try Synthetic.whiteNoise(grid: grid, members: 1, months: T, sigma: 1, seed: 12, name: "truth")
        let s = try Verification.score(ensemble: ens, observations: truth)
        XCTAssertEqual(s.sampleCount, T * grid.cellCount)
        let w = grid.areaWeights
        let nEff = Synthetic.effectiveSampleCount(weights: w, fields: T)
        // Spread–skill: spread² is a mean of s² (var 2σ⁴/(m−1)), MSE a mean of
        // (x̄−y)² = σ²(1+1/m)χ²₁ (relative var 2); the delta method gives the relative SE
        // of the ratio ½√(2/((m−1)N) + 2/N). Allow 4 SE.
        let seRatio = 0.5 * (2 / (Double(m - 1) * nEff) + 2 / nEff).squareRoot()
        XCTAssertEqual(s.spreadSkillRatio, 1, accuracy: 4 * seRatio)
        // Rank histogram: samples are independent here, so χ² ~ χ²_m under flatness and the
        // p-value is uniform; p > 0.001 fails by chance with probability 0.001.
        XCTAssertEqual(s.rankHistogram.counts.count, m + 1)
        XCTAssertGreaterThan(s.rankHistogram.pValue, 0.001)
        // Fair CRPS is unbiased for E CRPS(N(0,1), y) = 1/√π; SE from the per-sample spread.
        var perSample = [Double]()
        for t in 0..<T { for c in 0..<grid.cellCount {
            let x = (0..<m).map { Double(ens.values[ens.offset(member: $0, time: t) + c]) }
            perSample.append(Verification.crps(ensemble: x, observation: Double(truth.values[t * grid.cellCount + c])).fair)
        } }
        let seCRPS = Statistics.standardDeviation(perSample) / nEff.squareRoot()
        XCTAssertEqual(s.crpsFair, 1 / Double.pi.squareRoot(), accuracy: 4 * seCRPS)
        // The standard estimator is biased up by ½E|X−X'|/m = (1/√π)/m.
        XCTAssertEqual(s.crpsStandard - s.crpsFair, 1 / Double.pi.squareRoot() / Double(m), accuracy: 4 * seCRPS / Double(m))

        let narrow = try Synthetic.whiteNoise(grid: grid, members: m, months: T, sigma: 0.5, seed: 11, name: "narrow")
        let u = try Verification.score(ensemble: narrow, observations: truth)
        // Expected ratio √(1.1)·0.5/√(1 + 0.25/m) ≈ 0.52.
        XCTAssertLessThan(u.spreadSkillRatio, 0.7)
        XCTAssertLessThan(u.rankHistogram.pValue, 1e-10)
        XCTAssertGreaterThan(u.rankHistogram.reducedChiSquare, 20)
        // U shape: the outer ranks are over-populated.
        XCTAssertGreaterThan(u.rankHistogram.counts[0], 3 * u.rankHistogram.counts[m / 2])
        XCTAssertGreaterThan(u.crpsFair, s.crpsFair)
    }

    func testCRPSOfSinglePairKnownValues() {
        // x = {0, 1}, y = 0.25: mean|x−y| = 0.5; Σ_{i,j}|x_i−x_j| = 2.
        let c = Verification.crps(ensemble: [1, 0], observation: 0.25)
        XCTAssertEqual(c.fair, 0.5 - 2.0 / (2 * 2 * 1), accuracy: 1e-12)
        XCTAssertEqual(c.standard, 0.5 - 2.0 / (2 * 4), accuracy: 1e-12)
    }

    func testChiSquareSurvivalMatchesKnownQuantiles() {
        // Tabulated: χ²₁ 95% = 3.841459; χ²₁₀ 99.9% = 29.588298; χ²₂ survival = e^{−x/2}.
        XCTAssertEqual(Statistics.chiSquareSurvival(3.841459, dof: 1), 0.05, accuracy: 1e-6)
        XCTAssertEqual(Statistics.chiSquareSurvival(29.588298, dof: 10), 0.001, accuracy: 1e-7)
        XCTAssertEqual(Statistics.chiSquareSurvival(5, dof: 2), exp(-2.5), accuracy: 1e-12)
    }

    // MARK: EOF

    /// Two area-orthogonal patterns with exactly orthogonal amplitude series of variance
    /// 9 and 1: EOF 1 and 2 recover the patterns and the fractions 0.9 and 0.1.
    func testEOFRecoversTwoKnownOrthogonalPatterns() throws {
        let grid = Grid.regular(latitudeCount: 12, longitudeCount: 24)
        let n = grid.cellCount, w = grid.areaWeights, T = 96
        func normalised(_ p: [Double]) -> [Double] {
            let norm = zip(p, w).reduce(0) { $0 + $1.1 * $1.0 * $1.0 }.squareRoot()
            return p.map { $0 / norm }
        }
        let p1 = normalised((0..<n).map { cos(grid.longitudes[$0 % 24] * .pi / 180) })
        let p2 = normalised((0..<n).map { sin(2 * grid.longitudes[$0 % 24] * .pi / 180) * sin(grid.latitudes[$0 / 24] * .pi / 180) })
        // Member 1 is member 0 with the opposite sign: the ensemble mean is exactly zero.
        var values = [Float](repeating: 0, count: 2 * T * n)
        for m in 0..<2 { for t in 0..<T {
            let sign = m == 0 ? 1.0 : -1.0
            let a1 = sign * 3 * 2.0.squareRoot() * cos(2 * .pi * 3 * Double(t) / Double(T))
            let a2 = sign * 2.0.squareRoot() * cos(2 * .pi * 7 * Double(t) / Double(T))
            for c in 0..<n { values[(m * T + t) * n + c] = Float(a1 * p1[c] + a2 * p2[c]) }
        } }
        let f = try EnsembleFields(values: values, memberCount: 2, timeCount: T, grid: grid,
                                   monthsOfYear: (0..<T).map { $0 % 12 + 1 }, years: (0..<T).map { 2000 + $0 / 12 })
        let eof = try EOF.analyze(f, modeCount: 3)
        XCTAssertEqual(eof.varianceFractions[0], 0.9, accuracy: 1e-5)
        XCTAssertEqual(eof.varianceFractions[1], 0.1, accuracy: 1e-5)
        XCTAssertEqual(eof.varianceFractions[2], 0, accuracy: 1e-5)
        XCTAssertEqual(abs(Statistics.patternCorrelation(eof.patterns[0], p1, weights: w, centered: false)), 1, accuracy: 1e-6)
        XCTAssertEqual(abs(Statistics.patternCorrelation(eof.patterns[1], p2, weights: w, centered: false)), 1, accuracy: 1e-6)
        // Eigenvalue: amplitude variance 9 × N/(N−1) × K/(K−1) (ddof 1, ensemble-mean factor).
        let N = Double(2 * T)
        XCTAssertEqual(eof.eigenvalues[0], 9 * N / (N - 1) * 2, accuracy: 1e-3)
        XCTAssertEqual(EOF.patternCorrelation(eof, eof, mode: 1, weights: w), 1, accuracy: 1e-12)
    }

    // MARK: indices, autocorrelation, composites

    func testNinoRegionWeightsUseOverlapAreas() throws {
        let grid = Grid.regular(latitudeCount: 16, longitudeCount: 32) // 11.25° cells
        let w = try Region.nino34.weights(on: grid)
        XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
        // Rows −11.25…0 and 0…11.25 overlap 5°S–5°N by 5° each; columns 180–191.25 (1.25°),
        // 191.25–202.5, 202.5–213.75, 213.75–225, 225–236.25 (full), 236.25–247.5 (3.75°).
        let nonzero = (0..<grid.cellCount).filter { w[$0] > 0 }
        XCTAssertEqual(nonzero.count, 2 * 6)
        let row = 8 * 32
        XCTAssertEqual(w[row + 16] / w[row + 17], 1.25 / 11.25, accuracy: 1e-12)
        XCTAssertEqual(w[row + 21] / w[row + 17], 3.75 / 11.25, accuracy: 1e-12)
    }

    func testGlobalMeanIsMaskAwareAndAreaWeighted() throws {
        let grid = Grid.regular(latitudeCount: 6, longitudeCount: 8)
        // Value sin(lat) integrates to 0 over the sphere; with the southern hemisphere
        // masked the mean over the north is the area mean of sin φ over 0–90°: 1/2.
        var v = [Float](repeating: 0, count: grid.cellCount)
        for c in 0..<grid.cellCount {
            let b = grid.latitudeBounds[c / 8]
            // Cell mean of sin φ weighted by cos φ: (sin²φ₂ − sin²φ₁)/(2(sinφ₂ − sinφ₁)).
            let s1 = sin(b[0] * .pi / 180), s2 = sin(b[1] * .pi / 180)
            v[c] = grid.latitudes[c / 8] < 0 ? .nan : Float((s2 * s2 - s1 * s1) / (2 * (s2 - s1)))
        }
        let f = try EnsembleFields(values: v, memberCount: 1, timeCount: 1, grid: grid, monthsOfYear: [1], years: [2000])
        XCTAssertEqual(f.globalMean()[0], 0.5, accuracy: 1e-6)
    }

    func testAutocorrelationOfAR1NoiseMatchesCoefficient() throws {
        let grid = Grid.regular(latitudeCount: 4, longitudeCount: 8)
        let K = 6, T = 600, n = grid.cellCount, phi = 0.7
        var v = [Float](repeating: 0, count: K * T * n)
        let root = RandomStream(seed: 5)
        for m in 0..<K {
            var rng = root.substream(UInt64(m))
            var x = (0..<n).map { _ in rng.gaussian() / (1 - phi * phi).squareRoot() }
            for t in 0..<T { for c in 0..<n { x[c] = phi * x[c] + rng.gaussian(); v[(m * T + t) * n + c] = Float(x[c]) } }
        }
        let f = try EnsembleFields(values: v, memberCount: K, timeCount: T, grid: grid,
                                   monthsOfYear: (0..<T).map { $0 % 12 + 1 }, years: (0..<T).map { 1900 + $0 / 12 })
        let maps = Autocorrelation.maps(f)
        // SE of a lag-1 estimate from N samples of AR(1): √((1−φ²)/N); of lag 12: ≈ √((1+φ²)/(1−φ²)/N)
        // (Bartlett). Removing the ensemble mean costs no bias in expectation. Cells are
        // independent: test the mean over cells at 4 SE/√n.
        let N = Double(K * T)
        let mean1 = maps[0].reduce(0, +) / Double(n), mean12 = maps[1].reduce(0, +) / Double(n)
        XCTAssertEqual(mean1, phi, accuracy: 4 * ((1 - phi * phi) / N).squareRoot() / Double(n).squareRoot() + 2 / N)
        XCTAssertEqual(mean12, pow(phi, 12), accuracy: 4 * ((1 + phi * phi) / (1 - phi * phi) / N).squareRoot() / Double(n).squareRoot() + 13 / N)
    }

    func testVolcanicCompositeIsRelativeToPreEruptionYear() throws {
        // Two members, 1990–1995: a −0.3 K step from Pinatubo (1991-06) on, plus an
        // offset per member; the composite must show 0 before and −0.3 after.
        let T = 72, K = 2
        var g = [Double](repeating: 0, count: K * T)
        let t0 = 17 // June 1991
        for m in 0..<K { for t in 0..<T { g[m * T + t] = 14 + Double(m) + (t >= t0 ? -0.3 : 0) } }
        let c = try VolcanicComposite.composites(series: g, memberCount: K, monthsOfYear: (0..<T).map { $0 % 12 + 1 },
                                                 years: (0..<T).map { 1990 + $0 / 12 })
        // Only Pinatubo fits (El Chichón's window starts before 1990), plus the composite.
        XCTAssertEqual(c.map(\.name), ["Pinatubo", "composite"])
        // The pre-eruption baseline removes member offsets: lags −12…−1 have mean 0. The
        // monthly climatology absorbs a month-dependent share of the step, so compare lags
        // in the same calendar month (−12 and +24, both June): the difference is the step.
        let p = c[0]
        XCTAssertEqual(p.lags.first, -12); XCTAssertEqual(p.lags.last, 48)
        XCTAssertEqual(p.ensembleMean[0..<12].reduce(0, +) / 12, 0, accuracy: 1e-12)
        XCTAssertEqual(p.ensembleMean[12 + 24] - p.ensembleMean[0], -0.3, accuracy: 1e-12)
        for (a, b) in zip(p.percentile5, p.percentile95) { XCTAssertEqual(a, b, accuracy: 1e-9) } // identical members
        XCTAssertThrowsError(try VolcanicComposite.composites(series: g, memberCount: K, monthsOfYear: (0..<T).map { $0 % 12 + 1 },
                                                              years: (0..<T).map { 1990 + $0 / 12 }, window: 0...10))
    }

    func testShapeErrorsNameTheProblem() {
        let grid = Grid.regular(latitudeCount: 2, longitudeCount: 4)
        XCTAssertThrowsError(try EnsembleFields(values: [1, 2, 3], memberCount: 1, timeCount: 1, grid: grid,
                                                monthsOfYear: [1], years: [2000], name: "tas")) { error in
            XCTAssertTrue("\(error)".contains("tas"))
            XCTAssertTrue("\(error)".contains("expected"))
        }
    }
}

final class TimeAxisInputTests: XCTestCase {
    func testFieldsFromCFTimeAxis() throws {
        let axis = TimeAxis.monthly(startYear: 1991, endYear: 1992, calendar: .noLeap)
        let grid = Grid.regular(latitudeCount: 2, longitudeCount: 4)
        let f = try EnsembleFields(values: [Float](repeating: 1, count: 24 * 8), memberCount: 1, grid: grid, time: axis)
        XCTAssertEqual(f.timeCount, 24)
        XCTAssertEqual(f.timeIndex(year: 1991, month: 6), 5)
        XCTAssertEqual(f.fractionalYears[0], 1991 + 0.5 / 12, accuracy: 1e-12)
    }
}
