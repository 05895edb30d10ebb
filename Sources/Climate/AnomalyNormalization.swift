import Foundation

/// Monthly climatology and scale that turn temperature fields (K) into normalised
/// anomalies and back: a = (T − clim[month, cell]) / scale[cell], T = a·scale + clim.
///
/// The climatology is the mean over the fitting members and all their years for each
/// calendar month and grid cell. The scale is the standard deviation of those anomalies
/// at each cell (`perGridPoint`) or over all cells, area-weighted (`global`); see
/// Docs/models.md for the choice.
public struct AnomalyNormalization: Equatable, Sendable {
    public enum Scaling: String, Codable, Sendable, CaseIterable {
        case perGridPoint = "per-grid-point"
        case global
    }

    public let grid: Grid
    public let scaling: Scaling
    /// [12, lat, lon] in K, January first.
    public let climatology: [Float]
    /// [lat, lon] in K.
    public let scale: [Float]

    public init(grid: Grid, scaling: Scaling, climatology: [Float], scale: [Float]) throws {
        guard climatology.count == 12 * grid.cellCount, scale.count == grid.cellCount else {
            throw CFError(file: "normalisation", "climatology has \(climatology.count) values and scale \(scale.count); expected \(12 * grid.cellCount) and \(grid.cellCount)")
        }
        guard scale.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw CFError(file: "normalisation", "scale must be positive and finite at every grid cell")
        }
        self.grid = grid
        self.scaling = scaling
        self.climatology = climatology
        self.scale = scale
    }

    /// Fits the climatology and scale to members given as [time, lat, lon] arrays sharing
    /// `monthsOfYear` (1–12, one per time step; annual data has a single month). Missing
    /// values (NaN) are not allowed.
    public static func fit(members: [[Float]], monthsOfYear: [Int], grid: Grid, scaling: Scaling,
                           source: String = "data") throws -> AnomalyNormalization {
        let cells = grid.cellCount, times = monthsOfYear.count
        guard !members.isEmpty else { throw CFError(file: source, "no members to fit the climatology to") }
        for (index, member) in members.enumerated() {
            guard member.count == times * cells else {
                throw CFError(file: source, "member \(index) has \(member.count) values, expected \(times) months × \(cells) cells")
            }
            if member.contains(where: { !$0.isFinite }) {
                throw CFError(file: source, "member \(index) has missing or non-finite values; the VAE needs complete fields (fill or mask them first)")
            }
        }
        guard times > 0, monthsOfYear.allSatisfy({ (1...12).contains($0) }) else {
            throw CFError(file: source, "no time steps, or months outside 1–12, to fit a climatology to")
        }
        // Calendar months absent from the data (annual means: one month) get the overall
        // mean so that every row is defined; they are never used with this data.
        let monthCounts = (1...12).map { m in monthsOfYear.filter { $0 == m }.count }
        var sums = [Double](repeating: 0, count: 12 * cells)
        for member in members {
            for t in 0..<times {
                let base = (monthsOfYear[t] - 1) * cells
                for c in 0..<cells { sums[base + c] += Double(member[t * cells + c]) }
            }
        }
        var overall = [Double](repeating: 0, count: cells)
        for m in 0..<12 { for c in 0..<cells { overall[c] += sums[m * cells + c] } }
        let climatology = (0..<(12 * cells)).map { i -> Float in
            let count = monthCounts[i / cells]
            return count > 0 ? Float(sums[i] / Double(count * members.count))
                             : Float(overall[i % cells] / Double(times * members.count))
        }
        var squares = [Double](repeating: 0, count: cells)
        for member in members {
            for t in 0..<times {
                let base = (monthsOfYear[t] - 1) * cells
                for c in 0..<cells {
                    let d = Double(member[t * cells + c] - climatology[base + c])
                    squares[c] += d * d
                }
            }
        }
        let samples = Double(times * members.count)
        var scale: [Float]
        switch scaling {
        case .perGridPoint:
            scale = squares.map { Float(($0 / samples).squareRoot()) }
        case .global:
            let weights = grid.areaWeights
            let variance = zip(squares, weights).reduce(0) { $0 + $1.0 / samples * $1.1 }
            scale = [Float](repeating: Float(variance.squareRoot()), count: cells)
        }
        // A cell without variability (constant field) keeps a unit scale rather than dividing by zero.
        scale = scale.map { $0 > 1e-6 ? $0 : 1 }
        return try AnomalyNormalization(grid: grid, scaling: scaling, climatology: climatology, scale: scale)
    }

    /// Normalised anomalies of fields [time, lat, lon] (K) with their calendar months.
    public func normalize(_ fields: [Float], monthsOfYear: [Int]) -> [Float] {
        transform(fields, monthsOfYear: monthsOfYear) { value, clim, s in (value - clim) / s }
    }

    /// Temperatures (K) from normalised anomalies [time, lat, lon].
    public func denormalize(_ anomalies: [Float], monthsOfYear: [Int]) -> [Float] {
        transform(anomalies, monthsOfYear: monthsOfYear) { value, clim, s in value * s + clim }
    }

    private func transform(_ values: [Float], monthsOfYear: [Int], _ f: (Float, Float, Float) -> Float) -> [Float] {
        let cells = grid.cellCount
        precondition(values.count == monthsOfYear.count * cells, "normalisation: \(values.count) values for \(monthsOfYear.count) months")
        var result = [Float](repeating: 0, count: values.count)
        for (t, month) in monthsOfYear.enumerated() {
            let base = (month - 1) * cells
            for c in 0..<cells { result[t * cells + c] = f(values[t * cells + c], climatology[base + c], scale[c]) }
        }
        return result
    }
}
