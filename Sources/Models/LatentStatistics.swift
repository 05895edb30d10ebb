// Normalisation of the latents seen by the diffusion model: conditioning forms, residual
// scales, seasonal scaling, the innovation filter and whitening.

import CBLAS
import Foundation
import Tensor

/// What the network is given of the conditioning series z_c (`--conditioning-form`).
public enum ConditioningForm: String, Codable, Sendable, CaseIterable {
    /// (z_c − mean) / scale per latent dimension: its level, forced response included.
    case level
    /// The level, then z_c − mean through the innovation filter, scaling and whitening of the
    /// residuals (2·D values a month): the second half is in the coordinates of what the
    /// network learns, where the residual's part owed to the conditioning member's own
    /// variability is minus this input (up to the filtered forced response, which it cannot
    /// tell from internal variability).
    case both

    /// Values per latent dimension per month (1 or 2).
    public var count: Int { self == .both ? 2 : 1 }
}

/// Normalisation of the latents seen by the diffusion model, per latent dimension:
/// conditioning in the `conditioningForm` and residual r / residualScale (after the
/// optional seasonal scaling and innovation filter), then optionally a whitening across
/// dimensions.
public struct LatentStatistics: Codable, Equatable, Sendable {
    public var conditioningMean: [Float]
    public var conditioningScale: [Float]
    public var residualScale: [Float]
    /// Per calendar month (January first) and latent dimension, [12, D], the RMS of the
    /// residuals in that month over their RMS in all months, when the model works on the
    /// residuals divided by it (nil: not). ENSO's variance, for example, is twice as large in
    /// December as in May; a network given the month of year does not learn that from
    /// targets scaled alike in every month, this scaling hands it over (Docs/models.md).
    public var residualSeasonalScale: [Float]?
    /// Autocorrelations ρ_1…ρ_p of the residuals per latent dimension, [D, p], when the
    /// diffusion model works on their innovations under the AR(p) filter they define (nil:
    /// on the residuals themselves). See `InnovationFilter`.
    public var residualAutocorrelation: [Float]?
    /// Eigen-decomposition of the covariance across latent dimensions of the scaled
    /// residuals (or innovations), when the model works on them whitened (nil: not): the
    /// eigenvectors [D, D] row-major, column i the i-th, and the eigenvalues [D] (raised to
    /// the whitening floor, see `Whitening`). The
    /// whitening is the symmetric one, W = U Λ^(−1/2) Uᵀ, which keeps every coordinate close
    /// to its latent dimension. See `Whitening`.
    public var residualEigenvectors: [Float]?
    public var residualEigenvalues: [Float]?
    /// What the network is given of z_c (stored only when not `.level`).
    public var conditioningForm: ConditioningForm

    public init(conditioningMean: [Float], conditioningScale: [Float], residualScale: [Float],
                residualSeasonalScale: [Float]? = nil, residualAutocorrelation: [Float]? = nil,
                residualEigenvectors: [Float]? = nil, residualEigenvalues: [Float]? = nil,
                conditioningForm: ConditioningForm = .level) {
        self.conditioningMean = conditioningMean
        self.conditioningScale = conditioningScale
        self.residualScale = residualScale
        self.residualSeasonalScale = residualSeasonalScale
        self.residualAutocorrelation = residualAutocorrelation
        self.residualEigenvectors = residualEigenvectors
        self.residualEigenvalues = residualEigenvalues
        self.conditioningForm = conditioningForm
    }

    private enum CodingKeys: String, CodingKey {
        case conditioningMean, conditioningScale, residualScale, residualSeasonalScale, residualAutocorrelation, residualEigenvectors,
             residualEigenvalues, conditioningForm
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        conditioningMean = try c.decode([Float].self, forKey: .conditioningMean)
        conditioningScale = try c.decode([Float].self, forKey: .conditioningScale)
        residualScale = try c.decode([Float].self, forKey: .residualScale)
        residualSeasonalScale = try c.decodeIfPresent([Float].self, forKey: .residualSeasonalScale)
        residualAutocorrelation = try c.decodeIfPresent([Float].self, forKey: .residualAutocorrelation)
        residualEigenvectors = try c.decodeIfPresent([Float].self, forKey: .residualEigenvectors)
        residualEigenvalues = try c.decodeIfPresent([Float].self, forKey: .residualEigenvalues)
        conditioningForm = try c.decodeIfPresent(ConditioningForm.self, forKey: .conditioningForm) ?? .level
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(conditioningMean, forKey: .conditioningMean)
        try c.encode(conditioningScale, forKey: .conditioningScale)
        try c.encode(residualScale, forKey: .residualScale)
        try c.encodeIfPresent(residualSeasonalScale, forKey: .residualSeasonalScale)
        try c.encodeIfPresent(residualAutocorrelation, forKey: .residualAutocorrelation)
        try c.encodeIfPresent(residualEigenvectors, forKey: .residualEigenvectors)
        try c.encodeIfPresent(residualEigenvalues, forKey: .residualEigenvalues)
        if conditioningForm != .level { try c.encode(conditioningForm, forKey: .conditioningForm) }
    }

    /// Whether the model works on whitened residuals (or innovations).
    public var isWhitened: Bool { residualEigenvalues != nil }

    /// Order p of the innovation filter (0: none).
    public var innovationOrder: Int { (residualAutocorrelation?.count ?? 0) / residualScale.count }

    /// Statistics of the conditioning series z_c [R, T, D] (R ≥ 1 members, pooled) and the residuals [M, T, D] whose
    /// months have the calendar months `monthsOfYear` [T] (1–12); with `seasonal` the
    /// residuals are first divided by their seasonal scale (`residualSeasonalScale`); with
    /// `innovationOrder` p > 0 the residuals' autocorrelations up to lag p are fitted per
    /// dimension (pooled over members) and the scale is that of the innovations; with
    /// `whitened` the covariance across dimensions of what is then modelled is diagonalised
    /// (`LAPACKE_dsyevd`) for the whitening; `conditioningForm`: see the property.
    public static func fit(conditioning: [Float], residuals: [Float], monthsOfYear: [Int], dimension d: Int,
                           seasonal: Bool = false, innovationOrder p: Int = 0,
                           whitened: Bool = false, whiteningFloor: Float = Whitening.defaultFloor,
                           conditioningForm: ConditioningForm = .level) throws -> LatentStatistics {
        precondition(!monthsOfYear.isEmpty && conditioning.count % (monthsOfYear.count * d) == 0 && conditioning.count > 0,
                     "latent statistics: \(monthsOfYear.count) months for \(conditioning.count / d)")
        let seasonalScale = seasonal ? SeasonalScaling.fit(residuals, monthsOfYear: monthsOfYear, dimension: d) : nil
        // The seasonally scaled residuals are what the filter and the scales are fitted on.
        var statistics = fitScales(conditioning: conditioning,
                                   residuals: seasonalScale?.standardize(residuals, monthsOfYear: monthsOfYear) ?? residuals,
                                   dimension: d, timeCount: monthsOfYear.count, innovationOrder: p)
        statistics.residualSeasonalScale = seasonalScale?.scale
        statistics.conditioningForm = conditioningForm
        if whitened {
            let whitening = try Whitening(covarianceOf: statistics.normalizeResiduals(residuals, monthsOfYear: monthsOfYear),
                                          dimension: d, floor: whiteningFloor)
            statistics.residualEigenvectors = whitening.eigenvectors
            statistics.residualEigenvalues = whitening.eigenvalues
        }
        return statistics
    }

    private static func fitScales(conditioning: [Float], residuals: [Float], dimension d: Int, timeCount T: Int,
                                  innovationOrder p: Int) -> LatentStatistics {
        func moments(_ values: [Float], centred: Bool) -> (mean: [Float], scale: [Float]) {
            let rows = values.count / d
            var mean = [Double](repeating: 0, count: d), square = mean
            for r in 0..<rows { for j in 0..<d { mean[j] += Double(values[r * d + j]) } }
            mean = mean.map { centred ? $0 / Double(rows) : 0 }
            for r in 0..<rows { for j in 0..<d { let x = Double(values[r * d + j]) - mean[j]; square[j] += x * x } }
            return (mean.map(Float.init), square.map { Float(max(($0 / Double(rows)).squareRoot(), 1e-6)) })
        }
        let c = moments(conditioning, centred: true)
        guard p > 0 else {
            return LatentStatistics(conditioningMean: c.mean, conditioningScale: c.scale, residualScale: moments(residuals, centred: false).scale)
        }
        let members = residuals.count / (T * d)
        precondition(p < T, "innovation order \(p) needs series longer than \(p) months")
        var products = [Double](repeating: 0, count: d * (p + 1))
        for m in 0..<members {
            let base = m * T * d
            for t in 0..<T {
                for lag in 0...min(p, t) {
                    let now = base + t * d, before = now - lag * d
                    for j in 0..<d { products[j * (p + 1) + lag] += Double(residuals[now + j]) * Double(residuals[before + j]) }
                }
            }
        }
        var autocorrelation = [Float](repeating: 0, count: d * p)
        for j in 0..<d where products[j * (p + 1)] > 0 {
            for lag in 1...p { autocorrelation[j * p + lag - 1] = Float(products[j * (p + 1) + lag] / products[j * (p + 1)]) }
        }
        var whitened = LatentStatistics(conditioningMean: c.mean, conditioningScale: c.scale,
                                        residualScale: [Float](repeating: 1, count: d), residualAutocorrelation: autocorrelation)
        whitened.residualScale = moments(whitened.innovations(residuals, timeCount: T), centred: false).scale
        return whitened
    }

    /// What the network is given of the conditioning series z_c [T, D] with calendar months
    /// `monthsOfYear` [T] (1–12): [T, count · D] in the `conditioningForm` (with `.both`,
    /// each month's level then its filtered values, `ConditioningForm.both`).
    public func normalizeConditioning(_ z: [Float], monthsOfYear: [Int]) -> [Float] {
        let d = conditioningMean.count, months = z.count / d
        let centred: [Float] = z.enumerated().map { $0.element - conditioningMean[$0.offset % d] }
        let level: [Float] = centred.enumerated().map { $0.element / conditioningScale[$0.offset % d] }
        switch conditioningForm {
        case .level: return level
        case .both:
            let filtered = normalizeResiduals(centred, monthsOfYear: monthsOfYear)
            var pairs = [Float](repeating: 0, count: 2 * z.count)
            for t in 0..<months {
                for j in 0..<d {
                    pairs[2 * t * d + j] = level[t * d + j]
                    pairs[(2 * t + 1) * d + j] = filtered[t * d + j]
                }
            }
            return pairs
        }
    }

    /// What the diffusion model works on, from residuals [M, T, D] (M series whose months
    /// have the calendar months `monthsOfYear` [T], 1–12).
    public func normalizeResiduals(_ r: [Float], monthsOfYear: [Int]) -> [Float] {
        let d = residualScale.count, timeCount = monthsOfYear.count
        precondition(r.count % (timeCount * d) == 0, "residuals: \(r.count) values are not series of \(timeCount) months × \(d)")
        var e = innovations(SeasonalScaling(self)?.standardize(r, monthsOfYear: monthsOfYear) ?? r, timeCount: timeCount)
        for i in e.indices { e[i] /= residualScale[i % d] }
        return Whitening(self)?.whiten(e) ?? e
    }

    /// Series [M, T, D] through the innovation filter (unchanged without one).
    private func innovations(_ r: [Float], timeCount: Int) -> [Float] {
        guard let filter = InnovationFilter(self) else { return r }
        var e = r
        for start in stride(from: 0, to: r.count, by: timeCount * residualScale.count) {
            filter.whiten(r, into: &e, start: start, timeCount: timeCount)
        }
        return e
    }

    /// Residuals [M, T, D] from what the diffusion model generated (the inverse of `normalizeResiduals`).
    public func denormalizeResiduals(_ x: [Float], monthsOfYear: [Int]) -> [Float] {
        let d = residualScale.count, timeCount = monthsOfYear.count
        let e = (Whitening(self)?.colour(x) ?? x).enumerated().map { $0.element * residualScale[$0.offset % d] }
        var r = e
        if let filter = InnovationFilter(self) {
            for start in stride(from: 0, to: x.count, by: timeCount * d) { filter.colour(e, into: &r, start: start, timeCount: timeCount) }
        }
        return SeasonalScaling(self)?.restore(r, monthsOfYear: monthsOfYear) ?? r
    }
}

/// Residuals divided per calendar month and latent dimension by their seasonal scale
/// s[month, j] = RMS in that month / RMS in all months (`LatentStatistics.residualSeasonalScale`).
struct SeasonalScaling {
    /// [12, D], January first.
    let scale: [Float]

    init?(_ statistics: LatentStatistics) {
        guard let scale = statistics.residualSeasonalScale else { return nil }
        self.scale = scale
    }

    private init(scale: [Float]) { self.scale = scale }

    /// The seasonal scale of residuals [M, T, D] pooled over members and years; a calendar
    /// month absent from the series, or without variance in a dimension, gets scale 1.
    static func fit(_ r: [Float], monthsOfYear: [Int], dimension d: Int) -> SeasonalScaling {
        let T = monthsOfYear.count
        var squares = [Double](repeating: 0, count: 12 * d), counts = [Double](repeating: 0, count: 12)
        for start in stride(from: 0, to: r.count, by: T * d) {
            for (t, month) in monthsOfYear.enumerated() {
                let row = start + t * d, base = (month - 1) * d
                counts[month - 1] += 1
                for j in 0..<d { squares[base + j] += Double(r[row + j]) * Double(r[row + j]) }
            }
        }
        let total = counts.reduce(0, +)
        var scale = [Float](repeating: 1, count: 12 * d)
        for j in 0..<d {
            let all = (0..<12).map { squares[$0 * d + j] }.reduce(0, +) / max(total, 1)
            for month in 0..<12 where counts[month] > 0 && all > 0 && squares[month * d + j] > 0 {
                scale[month * d + j] = Float((squares[month * d + j] / counts[month] / all).squareRoot())
            }
        }
        return SeasonalScaling(scale: scale)
    }

    /// r[m, t, j] / s[month(t), j] for series [M, T, D].
    func standardize(_ r: [Float], monthsOfYear: [Int]) -> [Float] { apply(r, monthsOfYear: monthsOfYear) { $0 / $1 } }

    /// The inverse of `standardize`.
    func restore(_ r: [Float], monthsOfYear: [Int]) -> [Float] { apply(r, monthsOfYear: monthsOfYear) { $0 * $1 } }

    private func apply(_ r: [Float], monthsOfYear: [Int], _ combine: (Float, Float) -> Float) -> [Float] {
        let d = scale.count / 12, T = monthsOfYear.count
        var result = r
        for start in stride(from: 0, to: r.count, by: T * d) {
            for (t, month) in monthsOfYear.enumerated() {
                let row = start + t * d, base = (month - 1) * d
                for j in 0..<d { result[row + j] = combine(r[row + j], scale[base + j]) }
            }
        }
        return result
    }
}

/// The exact innovations of a stationary AR(p) series per latent dimension, from its
/// autocorrelations by the Levinson–Durbin recursion: month t of a series is predicted from
/// its min(t, p) predecessors with the best linear predictor of that order, and the
/// prediction error is scaled by √(v_p / v_q) (v_q: the order-q error variance), so every
/// innovation has the same variance and the inverse filter starts a series stationary.
struct InnovationFilter {
    let order: Int, dimension: Int
    /// coefficients[j][q]: the order-q predictor of dimension j, q = 0…p.
    let coefficients: [[[Double]]]
    /// scale[j][q] = √(v_p / v_q).
    let scale: [[Double]]

    init?(_ statistics: LatentStatistics) {
        guard let rho = statistics.residualAutocorrelation, statistics.innovationOrder > 0 else { return nil }
        let p = statistics.innovationOrder, d = statistics.residualScale.count
        order = p; dimension = d
        var allCoefficients: [[[Double]]] = [], allScales: [[Double]] = []
        for j in 0..<d {
            var phi: [Double] = [], orders: [[Double]] = [[]], variances = [1.0]
            for k in 1...p {
                let r = { (lag: Int) in Double(rho[j * p + lag - 1]) }
                var numerator = r(k)
                for i in 1..<k { numerator -= phi[i - 1] * r(k - i) }
                let kappa = min(max(numerator / variances[k - 1], -0.99), 0.99)
                phi = (1..<k).map { phi[$0 - 1] - kappa * phi[k - $0 - 1] } + [kappa]
                orders.append(phi)
                variances.append(variances[k - 1] * (1 - kappa * kappa))
            }
            allCoefficients.append(orders)
            allScales.append(variances.map { (variances[p] / $0).squareRoot() })
        }
        coefficients = allCoefficients
        scale = allScales
    }

    /// e[t] = (r[t] − Σ φ^(q)_i r[t−i]) · √(v_p / v_q), q = min(t, p), for the series at `start`.
    func whiten(_ r: [Float], into e: inout [Float], start: Int, timeCount: Int) {
        let d = dimension
        for t in 0..<timeCount {
            let q = min(t, order), row = start + t * d
            for j in 0..<d {
                var value = Double(r[row + j])
                for (i, phi) in coefficients[j][q].enumerated() { value -= phi * Double(r[row - (i + 1) * d + j]) }
                e[row + j] = Float(value * scale[j][q])
            }
        }
    }

    /// The inverse of `whiten`: r[t] = e[t] / √(v_p / v_q) + Σ φ^(q)_i r[t−i].
    func colour(_ e: [Float], into r: inout [Float], start: Int, timeCount: Int) {
        let d = dimension
        for t in 0..<timeCount {
            let q = min(t, order), row = start + t * d
            for j in 0..<d {
                var value = Double(e[row + j]) / scale[j][q]
                for (i, phi) in coefficients[j][q].enumerated() { value += phi * Double(r[row - (i + 1) * d + j]) }
                r[row + j] = Float(value)
            }
        }
    }
}

/// The symmetric whitening of D-dimensional rows by the eigen-decomposition of their
/// (uncentred) covariance C = U Λ Uᵀ: whiten x ↦ x U Λ^(−1/2) Uᵀ, colour y ↦ y U Λ^(1/2) Uᵀ.
/// Eigenvalues below `floor` times their mean are raised to it: the default 10⁻³ only keeps
/// directions without variance from being blown up; 1 whitens only the directions with more
/// than the mean variance, scaling them down to it, and leaves the others weaker.
public struct Whitening {
    public static let defaultFloor: Float = 1e-3
    let dimension: Int
    /// [D, D] row-major, column i the eigenvector of `eigenvalues[i]`.
    let eigenvectors: [Float]
    let eigenvalues: [Float]

    init?(_ statistics: LatentStatistics) {
        guard let vectors = statistics.residualEigenvectors, let values = statistics.residualEigenvalues else { return nil }
        dimension = values.count; eigenvectors = vectors; eigenvalues = values
    }

    /// Diagonalises the covariance of `rows` [N, D].
    init(covarianceOf rows: [Float], dimension d: Int, floor relativeFloor: Float = defaultFloor) throws {
        let n = rows.count / d
        var covariance = [Double](repeating: 0, count: d * d)
        rows.withUnsafeBufferPointer { x in
            var product = [Float](repeating: 0, count: d * d)
            // Blocks of rows in single precision, accumulated in double.
            for start in stride(from: 0, to: n, by: 4096) {
                let count = min(4096, n - start)
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(count), 1, x.baseAddress! + start * d,
                            Int32(d), 0, &product, Int32(d))
                for i in 0..<d { for j in i..<d { covariance[i * d + j] += Double(product[i * d + j]) } }
            }
        }
        for i in 0..<(d * d) { covariance[i] /= Double(max(n, 1)) }
        var values = [Double](repeating: 0, count: d)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(d), &covariance,
                                  Int32(d), &values)
        guard info == 0 else { throw ModelError.invalidConfiguration("whitening: LAPACKE_dsyevd failed (info \(info))") }
        let floor = max(values.reduce(0, +) / Double(d), 1e-12) * Double(relativeFloor)
        dimension = d
        eigenvectors = covariance.map(Float.init)
        eigenvalues = values.map { Float(max($0, floor)) }
    }

    /// rows [N, D] ↦ rows · U Λ^(power) Uᵀ.
    private func transform(_ rows: [Float], power: Float) -> [Float] {
        let d = dimension, n = rows.count / d
        var scaled = eigenvectors
        for i in 0..<d { for j in 0..<d { scaled[i * d + j] *= pow(eigenvalues[j], power) } }
        var matrix = [Float](repeating: 0, count: d * d)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(d), Int32(d), Int32(d), 1, scaled, Int32(d),
                    eigenvectors, Int32(d), 0, &matrix, Int32(d))
        var result = [Float](repeating: 0, count: rows.count)
        guard n > 0 else { return result }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(d), 1, rows, Int32(d),
                    matrix, Int32(d), 0, &result, Int32(d))
        return result
    }

    func whiten(_ rows: [Float]) -> [Float] { transform(rows, power: -0.5) }
    func colour(_ rows: [Float]) -> [Float] { transform(rows, power: 0.5) }
}
