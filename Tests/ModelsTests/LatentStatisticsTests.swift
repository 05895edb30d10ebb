import Foundation
import XCTest
import RandomStreams
import Tensor
@testable import Models

/// The normalisation chain of what the diffusion model learns (`LatentStatistics`):
/// seasonal scaling, innovation filter, scaling, whitening, and the conditioning forms.
final class LatentStatisticsTests: XCTestCase {
    /// Calendar months 1–12 of T months starting in January.
    private func calendar(_ T: Int) -> [Int] { (0..<T).map { $0 % 12 + 1 } }

    /// Innovations of an AR(2) series per dimension (one white, one AR(1), one oscillatory
    /// AR(2); 4 members × 2000 months): the fitted filter's order-2 predictor recovers the
    /// coefficients (standard error ≈ √((1 − φ₂²)/8000) ≤ 0.011; tolerance 0.04), the
    /// normalised innovations have unit RMS and no lag-1 or lag-2 correlation (standard error
    /// 0.011; tolerance 0.04), and `denormalizeResiduals` inverts `normalizeResiduals`;
    /// statistics saved before the option existed decode as plain residuals.
    func testInnovationsWhitenAndInvert() throws {
        let phi: [[Float]] = [[0, 0], [0.9, 0], [1.2, -0.5]], d = 3, T = 2000, members = 4
        let months = calendar(T)
        var random = RandomStream(seed: 21)
        var residuals = [Float](repeating: 0, count: members * T * d)
        for m in 0..<members {
            // 200 months of spin-up so that every member starts stationary.
            var state = [[Float]](repeating: [0, 0], count: d)
            for t in -200..<T {
                for j in 0..<d {
                    let value = phi[j][0] * state[j][0] + phi[j][1] * state[j][1] + Float(random.gaussian()) * 2
                    state[j] = [value, state[j][0]]
                    if t >= 0 { residuals[(m * T + t) * d + j] = value }
                }
            }
        }
        let conditioning = Tensor(gaussianShape: [T * d], random: &random).values
        let statistics = try LatentStatistics.fit(conditioning: conditioning, residuals: residuals, monthsOfYear: months, dimension: d, innovationOrder: 2)
        XCTAssertEqual(statistics.innovationOrder, 2)
        let filter = try XCTUnwrap(InnovationFilter(statistics))
        for j in 0..<d {
            for i in 0..<2 { XCTAssertEqual(filter.coefficients[j][2][i], Double(phi[j][i]), accuracy: 0.04, "dimension \(j), lag \(i + 1)") }
        }
        let e = statistics.normalizeResiduals(residuals, monthsOfYear: months)
        for j in 0..<d {
            var square = 0.0, lagged = [0.0, 0.0]
            for m in 0..<members {
                for t in 0..<T {
                    let i = (m * T + t) * d + j
                    square += Double(e[i] * e[i])
                    for lag in 1...2 where t >= lag { lagged[lag - 1] += Double(e[i] * e[i - lag * d]) }
                }
            }
            XCTAssertEqual(square / Double(members * T), 1, accuracy: 1e-3, "dimension \(j)")
            for lag in 0..<2 { XCTAssertEqual(lagged[lag] / square, 0, accuracy: 0.04, "dimension \(j), lag \(lag + 1)") }
        }
        let back = statistics.denormalizeResiduals(e, monthsOfYear: months)
        for (x, y) in zip(back, residuals) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(y))) }

        let old = #"{"conditioningMean":[0],"conditioningScale":[1],"residualScale":[2]}"#
        let decoded = try JSONDecoder().decode(LatentStatistics.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.innovationOrder, 0)
        XCTAssertEqual(decoded.denormalizeResiduals([1, 2], monthsOfYear: [1, 2]), [2, 4])
    }

    /// Whitening across dimensions (4 dimensions mixed from independent sources, so their
    /// covariance is far from diagonal, plus one dimension without variance): what the
    /// model sees has identity covariance on the training data itself (exact up to
    /// rounding, tolerance 10⁻³) — on its own and after the innovation filter — the
    /// constant dimension is neither amplified nor lost, `denormalizeResiduals` inverts
    /// `normalizeResiduals`, the statistics survive JSON, and statistics saved before the
    /// option existed are not whitened.
    func testWhiteningDecorrelatesAndInverts() throws {
        let d = 5, T = 600, members = 3
        let months = calendar(T)
        let mixing: [[Float]] = [[1, 0, 0, 0], [0.9, 0.3, 0, 0], [-0.5, 0.5, 0.7, 0], [0.2, 0.2, 0.2, 2]]
        var random = RandomStream(seed: 33)
        var residuals = [Float](repeating: 0, count: members * T * d)
        for row in 0..<(members * T) {
            let sources = (0..<4).map { _ in Float(random.gaussian()) }
            for j in 0..<4 { residuals[row * d + j] = zip(mixing[j], sources).map(*).reduce(0, +) * 3 }
            residuals[row * d + 4] = 0
        }
        let conditioning = Tensor(gaussianShape: [T * d], random: &random).values
        for order in [0, 3] {
            let statistics = try LatentStatistics.fit(conditioning: conditioning, residuals: residuals, monthsOfYear: months, dimension: d,
                                                      innovationOrder: order, whitened: true)
            XCTAssertTrue(statistics.isWhitened)
            let x = statistics.normalizeResiduals(residuals, monthsOfYear: months)
            for i in 0..<d {
                for j in 0..<d {
                    var sum = 0.0
                    for row in 0..<(members * T) { sum += Double(x[row * d + i]) * Double(x[row * d + j]) }
                    let expected: Double = i == j && i < 4 ? 1 : 0
                    XCTAssertEqual(sum / Double(members * T), expected, accuracy: 1e-3, "order \(order), covariance (\(i), \(j))")
                }
            }
            let back = statistics.denormalizeResiduals(x, monthsOfYear: months)
            for (a, b) in zip(back, residuals) { XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, abs(b)), "order \(order)") }
            let decoded = try JSONDecoder().decode(LatentStatistics.self, from: JSONEncoder().encode(statistics))
            XCTAssertEqual(decoded, statistics)
        }
        let old = #"{"conditioningMean":[0],"conditioningScale":[1],"residualScale":[2]}"#
        XCTAssertFalse(try JSONDecoder().decode(LatentStatistics.self, from: Data(old.utf8)).isWhitened)
    }

    /// Filtered conditioning: z_c goes through the residuals' filter, scaling and whitening
    /// after its mean is removed, so for members z_m = f + u_m around a common forced part f
    /// the modelled residual of member m is exactly (what the model sees of u_m) − (what it
    /// is given of z_c), up to the filtered forced part (zero here), with and without seasonal
    /// scaling; the unfiltered form and statistics saved before the option stay as they were.
    func testFilteredConditioningIsInTheModelsCoordinates() throws {
        let d = 3, T = 500, members = 3
        let months = calendar(T)
        var random = RandomStream(seed: 41)
        // AR(1) variability per dimension with a seasonal amplitude, common mean 2 (the forced
        // part, constant here).
        func series() -> [Float] {
            var x = [Float](repeating: 0, count: T * d), state = [Float](repeating: 0, count: d)
            for t in 0..<T {
                let amplitude = 1 + 0.5 * Float(cos(2 * Double.pi * Double(t) / 12))
                for j in 0..<d { state[j] = 0.8 * state[j] + Float(random.gaussian()); x[t * d + j] = 2 + amplitude * state[j] }
            }
            return x
        }
        let zc = series(), others = (0..<members).map { _ in series() }
        let residuals = others.flatMap { z in zip(z, zc).map { $0 - $1 } }
        let plain = try LatentStatistics.fit(conditioning: zc, residuals: residuals, monthsOfYear: months, dimension: d, innovationOrder: 2, whitened: true)
        let both = try LatentStatistics.fit(conditioning: zc, residuals: residuals, monthsOfYear: months, dimension: d, innovationOrder: 2,
                                            whitened: true, conditioningForm: .both)
        XCTAssertEqual(plain.conditioningForm, .level)
        XCTAssertEqual(both.conditioningForm, .both)
        let seasonal = try LatentStatistics.fit(conditioning: zc, residuals: residuals, monthsOfYear: months, dimension: d,
                                                seasonal: true, innovationOrder: 2, whitened: true, conditioningForm: .both)
        /// Each month's level [D] then filtered values [D]: one of the halves, [T, D].
        func half(_ pairs: [Float], filtered: Bool) -> [Float] {
            (0..<(pairs.count / (2 * d))).flatMap { t in pairs[((2 * t + (filtered ? 1 : 0)) * d)..<((2 * t + (filtered ? 2 : 1)) * d)] }
        }
        for statistics in [both, seasonal] {
            let given = half(statistics.normalizeConditioning(zc, monthsOfYear: months), filtered: true)
            let centred = zc.enumerated().map { $0.element - statistics.conditioningMean[$0.offset % d] }
            XCTAssertEqual(given, statistics.normalizeResiduals(centred, monthsOfYear: months))
            // The chain is linear, so with the same mean removed from a member it splits exactly.
            let modelled = statistics.normalizeResiduals(residuals, monthsOfYear: months)
            for m in 0..<members {
                let member = half(statistics.normalizeConditioning(others[m], monthsOfYear: months), filtered: true)
                for i in 0..<(T * d) {
                    XCTAssertEqual(modelled[m * T * d + i], member[i] - given[i], accuracy: 1e-3,
                                   "seasonal \(statistics.residualSeasonalScale != nil), member \(m), value \(i)")
                }
            }
        }
        let level = plain.normalizeConditioning(zc, monthsOfYear: months)
        XCTAssertEqual(level, zc.enumerated().map {
            ($0.element - plain.conditioningMean[$0.offset % d]) / plain.conditioningScale[$0.offset % d]
        })
        // Both forms: each month's level first, the same as the level form's.
        let pairs = both.normalizeConditioning(zc, monthsOfYear: months)
        XCTAssertEqual(pairs.count, 2 * T * d)
        XCTAssertEqual(half(pairs, filtered: false), level)
        for statistics in [plain, both] {
            XCTAssertEqual(try JSONDecoder().decode(LatentStatistics.self, from: JSONEncoder().encode(statistics)), statistics)
        }
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("conditioningForm"))
        let old = #"{"conditioningMean":[0],"conditioningScale":[2],"residualScale":[1]}"#
        let decoded = try JSONDecoder().decode(LatentStatistics.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.conditioningForm, .level)
        XCTAssertEqual(decoded.normalizeConditioning([4], monthsOfYear: [1]), [2])
    }

    /// Seasonal scaling of residuals whose amplitude follows the calendar (dimension 0: AR(1)
    /// times 1 + 0.6 cos(2π(month − 1)/12); dimension 1: white, the same in every month;
    /// 8 members × 100 years). The fitted scale is the amplitude over its RMS (800 values a
    /// month: relative standard error 1/√1600 = 0.025; tolerance 0.1), the scaled residuals
    /// have the same RMS in every month (exactly, on the data the scale was fitted on), the
    /// whole chain with innovations and whitening inverts, a series starting in July takes
    /// July's scale first, and statistics without the scale decode as before.
    func testSeasonalScalingEvensOutTheCalendar() throws {
        let d = 2, T = 1200, members = 8
        let months = calendar(T)
        var random = RandomStream(seed: 57)
        let amplitude = (1...12).map { 1 + 0.6 * cos(2 * Double.pi * Double($0 - 1) / 12) }
        var residuals = [Float](repeating: 0, count: members * T * d)
        for m in 0..<members {
            var state = 0.0
            for t in 0..<T {
                state = 0.7 * state + random.gaussian()
                residuals[(m * T + t) * d] = Float(amplitude[months[t] - 1] * state)
                residuals[(m * T + t) * d + 1] = Float(3 * random.gaussian())
            }
        }
        let conditioning = Tensor(gaussianShape: [T * d], random: &random).values
        let statistics = try LatentStatistics.fit(conditioning: conditioning, residuals: residuals, monthsOfYear: months,
                                                  dimension: d, seasonal: true, innovationOrder: 2, whitened: true)
        let scale = try XCTUnwrap(statistics.residualSeasonalScale)
        XCTAssertEqual(scale.count, 12 * d)
        let rms = (amplitude.map { $0 * $0 }.reduce(0, +) / 12).squareRoot()
        for month in 0..<12 {
            XCTAssertEqual(Double(scale[month * d]), amplitude[month] / rms, accuracy: 0.1 * amplitude[month] / rms, "month \(month + 1)")
            XCTAssertEqual(scale[month * d + 1], 1, accuracy: 0.1, "month \(month + 1), white dimension")
        }
        let scaling = try XCTUnwrap(SeasonalScaling(statistics))
        let even = scaling.standardize(residuals, monthsOfYear: months)
        for j in 0..<d {
            var squares = [Double](repeating: 0, count: 12)
            for m in 0..<members { for t in 0..<T { let x = Double(even[(m * T + t) * d + j]); squares[months[t] - 1] += x * x } }
            let all = squares.reduce(0, +) / 12
            for month in 0..<12 { XCTAssertEqual(squares[month] / all, 1, accuracy: 1e-4, "dimension \(j), month \(month + 1)") }
        }
        let modelled = statistics.normalizeResiduals(residuals, monthsOfYear: months)
        let back = statistics.denormalizeResiduals(modelled, monthsOfYear: months)
        for (a, b) in zip(back, residuals) { XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, abs(b))) }
        XCTAssertEqual(scaling.standardize([2, 3], monthsOfYear: [7]), [2 / scale[6 * d], 3 / scale[6 * d + 1]])
        XCTAssertEqual(try JSONDecoder().decode(LatentStatistics.self, from: JSONEncoder().encode(statistics)), statistics)
        let old = #"{"conditioningMean":[0],"conditioningScale":[1],"residualScale":[2]}"#
        let decoded = try JSONDecoder().decode(LatentStatistics.self, from: Data(old.utf8))
        XCTAssertNil(decoded.residualSeasonalScale)
        XCTAssertEqual(decoded.normalizeResiduals([4, 6], monthsOfYear: [1, 7]), [2, 3])
    }
}
