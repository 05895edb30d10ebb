// The leading EOFs of grids too large for the full covariance matrix: 145×192 has 27 840
// cells, whose covariance alone takes 6.2 GB and whose eigendecomposition hours.

import CBLAS
import Foundation
import RandomStreams

extension EOF {
    /// Valid cells up to which `analyze` diagonalises the full covariance matrix (32×64 has
    /// 2048); beyond, it computes the leading modes only (`truncated`).
    static let exactCellLimit = 2500

    /// The `modeCount` leading EOFs by randomized subspace iteration (Halko, Martinsson &
    /// Tropp 2011, algorithm 4.4): a Gaussian start of `modeCount + 20` columns, four power
    /// iterations, then the Rayleigh–Ritz step on that subspace. The covariance is never
    /// formed: each product C·M = Xᵀ(X·M)/(N − 1) streams the centred rows in blocks
    /// (single-precision GEMMs, double accumulators), so memory is O(P·modes) and time
    /// 7 passes over the data. The start is a fixed stream, so results are reproducible.
    /// Total variance is the exact trace. Arguments as `analyze(rowCount:…)`.
    static func truncated(rowCount N: Int, cellCount: Int, validCells: [Int], weights: [Double], modeCount: Int,
                          fillRow: (Int, inout [Double]) -> Void) throws -> EOFResult {
        let P = validCells.count
        guard P >= 1, N >= 2 else { throw DiagnosticsError.insufficientData("EOF needs ≥ 2 samples and ≥ 1 valid cell (got \(N), \(P))") }
        let k = min(modeCount, P), width = min(P, k + 20)
        let sw = validCells.map { weights[$0].squareRoot() }
        var row = [Double](repeating: 0, count: P)

        // Pass 1: column means and the total variance (trace of C).
        var sum = [Double](repeating: 0, count: P), squares = sum
        for r in 0..<N {
            fillRow(r, &row)
            for j in 0..<P { let x = row[j] * sw[j]; sum[j] += x; squares[j] += x * x }
        }
        let mean = sum.map { $0 / Double(N) }
        let total = (0..<P).reduce(0.0) { $0 + (squares[$1] - Double(N) * mean[$1] * mean[$1]) / Double(N - 1) }
        guard total > 0, total.isFinite else {
            throw DiagnosticsError.insufficientData("no variability to decompose into EOFs: the members are identical, or the anomalies constant")
        }

        let block = min(1024, max(16, (1 << 25) / P))
        var rows = [Float](repeating: 0, count: block * P)
        var projected = [Float](repeating: 0, count: block * width), part = [Float](repeating: 0, count: P * width)
        /// C·M for M [P, width] row-major.
        func covarianceTimes(_ m: [Double]) -> [Double] {
            let mf = m.map { Float($0) }
            var product = [Double](repeating: 0, count: P * width)
            var r0 = 0
            while r0 < N {
                let nb = min(block, N - r0)
                for i in 0..<nb {
                    fillRow(r0 + i, &row)
                    for j in 0..<P { rows[i * P + j] = Float(row[j] * sw[j] - mean[j]) }
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(nb), Int32(width), Int32(P), 1,
                            rows, Int32(P), mf, Int32(width), 0, &projected, Int32(width))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(P), Int32(width), Int32(nb), 1,
                            rows, Int32(P), projected, Int32(width), 0, &part, Int32(width))
                for i in 0..<(P * width) { product[i] += Double(part[i]) }
                r0 += nb
            }
            return product.map { $0 / Double(N - 1) }
        }

        var random = RandomStream(seed: 0x45_4F_46).substream("truncated-eof")
        var basis = try orthonormalized((0..<(P * width)).map { _ in random.gaussian() }, rows: P, columns: width)
        for _ in 0..<4 { basis = try orthonormalized(covarianceTimes(basis), rows: P, columns: width) }
        let image = covarianceTimes(basis)
        // Rayleigh–Ritz: B = Qᵀ C Q [width, width], symmetrised against rounding.
        var small = [Double](repeating: 0, count: width * width)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(width), Int32(width), Int32(P), 1,
                    basis, Int32(width), image, Int32(width), 0, &small, Int32(width))
        for i in 0..<width { for j in (i + 1)..<width {
            let s = 0.5 * (small[i * width + j] + small[j * width + i])
            small[i * width + j] = s; small[j * width + i] = s
        } }
        var eig = [Double](repeating: 0, count: width)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(width), &small, Int32(width), &eig)
        guard info == 0 else { throw DiagnosticsError.lapack(routine: "LAPACKE_dsyevd", info: info) }
        // Eigenvalues ascend: mode m is column width − 1 − m; its vector on the grid is Q·w.
        return result(modes: k, totalVariance: total, cellCount: cellCount, validCells: validCells, weights: weights,
                      eigenvalue: { eig[width - 1 - $0] }, component: { j, mode in
                          (0..<width).reduce(0.0) { $0 + basis[j * width + $1] * small[$1 * width + width - 1 - mode] }
                      })
    }

    /// An orthonormal basis [rows, columns] (row-major) of the columns of `a`: Householder QR.
    private static func orthonormalized(_ a: [Double], rows: Int, columns: Int) throws -> [Double] {
        var q = a
        var tau = [Double](repeating: 0, count: columns)
        var info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, Int32(rows), Int32(columns), &q, Int32(columns), &tau)
        guard info == 0 else { throw DiagnosticsError.lapack(routine: "LAPACKE_dgeqrf", info: info) }
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, Int32(rows), Int32(columns), Int32(columns), &q, Int32(columns), &tau)
        guard info == 0 else { throw DiagnosticsError.lapack(routine: "LAPACKE_dorgqr", info: info) }
        return q
    }
}
