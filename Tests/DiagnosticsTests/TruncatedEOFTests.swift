import RandomStreams
import XCTest
@testable import Diagnostics

/// The truncated EOFs that large grids use, against the full diagonalisation on the same
/// data: 900 cells, 700 samples of ten known patterns with separated variances plus noise.
final class TruncatedEOFTests: XCTestCase {
    func testTruncatedMatchesTheFullDecomposition() throws {
        let (P, N, modes) = (900, 700, 10)
        var random = RandomStream(seed: 11)
        // Ten patterns made orthonormal by Gram–Schmidt, variances 10, 7, 5 … 0.6.
        var patterns: [[Double]] = []
        for _ in 0..<modes {
            var v = (0..<P).map { _ in random.gaussian() }
            for u in patterns { let d = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }; v = zip(v, u).map { $0 - d * $1 } }
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            patterns.append(v.map { $0 / n })
        }
        let variances = [10, 7, 5, 3.5, 2.5, 1.8, 1.3, 1.0, 0.8, 0.6]
        var data = [Double](repeating: 0, count: N * P)
        for r in 0..<N {
            for j in 0..<P { data[r * P + j] = 0.05 * random.gaussian() + 3 }   // noise and a mean to remove
            for m in 0..<modes {
                let a = variances[m].squareRoot() * random.gaussian()
                for j in 0..<P { data[r * P + j] += a * patterns[m][j] }
            }
        }
        let weights = (0..<P).map { 0.5 + Double($0 % 7) / 7 }
        let fill = { (r: Int, out: inout [Double]) in for j in 0..<P { out[j] = data[r * P + j] } }
        let cells = Array(0..<P)
        let exact = try EOF.exact(rowCount: N, cellCount: P, validCells: cells, weights: weights, modeCount: 8, fillRow: fill)
        let truncated = try EOF.truncated(rowCount: N, cellCount: P, validCells: cells, weights: weights, modeCount: 8, fillRow: fill)
        XCTAssertEqual(truncated.totalVariance, exact.totalVariance, accuracy: 1e-5 * exact.totalVariance)
        for m in 0..<8 {
            // Both accumulate float products: agreement to a few parts in a million.
            XCTAssertEqual(truncated.eigenvalues[m], exact.eigenvalues[m], accuracy: 1e-4 * exact.eigenvalues[m], "mode \(m + 1)")
            XCTAssertEqual(EOF.patternCorrelation(truncated, exact, mode: m, weights: weights), 1, accuracy: 1e-4, "mode \(m + 1)")
            // Signs follow the same rule (positive weighted sum).
            XCTAssertGreaterThan(zip(truncated.patterns[m], weights).reduce(0) { $0 + $1.0 * $1.1 }, 0)
        }
        // Grids past the limit take the truncated path through the public entry point.
        XCTAssertGreaterThan(EOF.exactCellLimit, 2048, "32×64 keeps the full decomposition")
    }
}
