import RandomStreams
import XCTest
@testable import Models

/// Training pairs drawn from many conditioning members, and the residuals formed from the
/// members' normalised series.
final class LatentSequencesTests: XCTestCase {
    let T = 30, d = 3
    var months: [Int] { (0..<T).map { $0 % 12 + 1 } }

    func series(_ count: Int, seed: UInt64) -> [Float] {
        var random = RandomStream(seed: seed)
        return (0..<(count * T * d)).map { _ in Float(random.gaussian()) }
    }

    /// With conditioning members {0, 2, 4} among targets 0–4, every pair (c, k), k ≠ c, is
    /// drawn, no other (never k = c), conditioning members equally often within sampling
    /// error, and the same seed draws the same pairs.
    func testEveryPairReachableNeverItselfAndReproducible() throws {
        let members = 5, conditioning = [0, 2, 4]
        let data = try LatentSequences(members: series(members, seed: 1), conditioning: series(3, seed: 2),
                                       conditioningIndices: conditioning, targetIndices: Array(0..<members),
                                       monthsOfYear: months, dimension: d)
        XCTAssertEqual(data.pairCount, 3 * 4)
        var random = RandomStream(seed: 7)
        let draws = 6000
        var counts: [String: Int] = [:], perConditioning = [Int](repeating: 0, count: 3)
        var sequence: [LatentSequences.Pair] = []
        for _ in 0..<draws {
            let pair = data.drawPair(&random)
            sequence.append(pair)
            XCTAssertEqual(pair.reference, conditioning[pair.conditioning])
            XCTAssertNotEqual(pair.target, pair.reference)
            counts["\(conditioning[pair.conditioning])-\(pair.target)", default: 0] += 1
            perConditioning[pair.conditioning] += 1
        }
        let expected = Set(conditioning.flatMap { c in (0..<members).filter { $0 != c }.map { "\(c)-\($0)" } })
        XCTAssertEqual(Set(counts.keys), expected)
        // Binomial sampling error of one conditioning member's share: 5 standard deviations.
        let p = 1.0 / 3, tolerance = 5 * (Double(draws) * p * (1 - p)).squareRoot()
        for n in perConditioning { XCTAssertEqual(Double(n), Double(draws) * p, accuracy: tolerance) }
        var again = RandomStream(seed: 7)
        XCTAssertEqual((0..<draws).map { _ in data.drawPair(&again) }, sequence)
    }

    /// A conditioning member with nothing to be paired with is refused.
    func testConditioningMemberWithoutPartnerIsRefused() {
        XCTAssertThrowsError(try LatentSequences(members: series(2, seed: 1), conditioning: series(1, seed: 2),
                                                 conditioningIndices: [0], targetIndices: [0], monthsOfYear: months, dimension: d))
    }

    /// The residual of a pair formed from the members' normalised series equals the
    /// normalised residual z_k − z_c (seasonal scaling, AR(2) innovations, whitening: the
    /// normalisation is linear), to float rounding; the single-conditioning layout gives
    /// the residual series as stored.
    func testPairResidualEqualsNormalisedResidual() throws {
        let members = 4
        let z = series(members, seed: 3).enumerated().map { $0.element + Float($0.offset % d) }
        let length = T * d
        func member(_ m: Int) -> [Float] { Array(z[(m * length)..<((m + 1) * length)]) }
        let residuals = (1..<members).flatMap { k in zip(member(k), member(0)).map { $0 - $1 } }
        let statistics = try LatentStatistics.fit(conditioning: member(0) + member(1), residuals: residuals, monthsOfYear: months,
                                                  dimension: d, seasonal: true, innovationOrder: 2, whitened: true)
        let normalised = statistics.normalizeResiduals(z, monthsOfYear: months)
        let data = try LatentSequences(members: normalised,
                                       conditioning: statistics.normalizeConditioning(member(0) + member(1), monthsOfYear: months),
                                       conditioningIndices: [0, 1], targetIndices: Array(0..<members), monthsOfYear: months, dimension: d)
        for (c, k) in [(0, 2), (1, 3), (1, 0)] {
            let expected = statistics.normalizeResiduals(zip(member(k), member(c)).map { $0 - $1 }, monthsOfYear: months)
            let pair = LatentSequences.Pair(conditioning: c, target: k, reference: c)
            for t in 0..<T {
                for e in 0..<d {
                    XCTAssertEqual(data.residual(pair, month: t, dimension: e), expected[t * d + e], accuracy: 1e-4, "pair (\(c), \(k)) month \(t)")
                }
            }
        }
        let single = LatentSequences(residuals: residuals, conditioning: member(0), monthsOfYear: months, dimension: d)
        XCTAssertEqual(single.pairCount, members - 1)
        let pair = LatentSequences.Pair(conditioning: 0, target: 1, reference: nil)
        XCTAssertEqual(single.residual(pair, month: 5, dimension: 2), residuals[length + 5 * d + 2])
        XCTAssertEqual(Array(data.conditioningRow(3, series: 1)!), Array(statistics.normalizeConditioning(member(1), monthsOfYear: months)[(3 * d)..<(4 * d)]))
    }
}
