// The grid-scale variability the VAE does not reproduce, as a noise model that generation
// adds back to decoded fields (Docs/models.md, "Unresolved variability").

import Climate
import Foundation
import RandomStreams
import Tensor

/// Statistics of original − reconstruction (decode of the encoder mean) over training
/// fields: a decoded field is smoother than the field it came from, and a generated member
/// without this part is over-confident at grid points. Generation adds Gaussian noise with
/// the standard deviation of each calendar month and cell, correlated between neighbouring
/// longitudes of a latitude row and between consecutive months as the reconstruction error is.
public struct UnresolvedVariability: Sendable {
    public static let fileName = "unresolved-variability.safetensors"
    public static let format = "ensemblegen-unresolved-variability/1"

    public let grid: Grid
    /// Standard deviation of original − reconstruction (K) by calendar month and cell, [12, lat, lon].
    public let standardDeviation: [Float]
    /// Correlation of original − reconstruction between longitude neighbours, by latitude row, [lat].
    public let longitudeCorrelation: [Float]
    /// Correlation of original − reconstruction between consecutive months, by latitude row, [lat].
    public let monthCorrelation: [Float]
    /// Free-form provenance (data, members, VAE digest).
    public var provenance: [String: String]
    /// `longitudeKernel` of each row's longitude correlation, computed once.
    private let longitudeKernels: [[Float]]

    public init(grid: Grid, standardDeviation: [Float], longitudeCorrelation: [Float], monthCorrelation: [Float],
                provenance: [String: String] = [:]) {
        precondition(standardDeviation.count == 12 * grid.cellCount && longitudeCorrelation.count == grid.latitudeCount
                     && monthCorrelation.count == grid.latitudeCount)
        self.grid = grid
        self.standardDeviation = standardDeviation
        self.longitudeCorrelation = longitudeCorrelation
        self.monthCorrelation = monthCorrelation
        self.provenance = provenance
        longitudeKernels = longitudeCorrelation.map { Self.longitudeKernel(lag1: $0, longitudes: grid.longitudeCount) }
    }

    /// Weights k[−h…h] of the circular filter along a latitude row of `longitudes` cells that
    /// turns white noise into noise of unit variance whose neighbours correlate at ρ: a
    /// Gaussian exp(−j²/2L²) (truncated at 4L, at most half the row) whose width L is found by
    /// bisection so that Σ k_j k_{j+1} = ρ exactly. ρ ≤ 0 gives [1]; ρ is capped at 0.99.
    public static func longitudeKernel(lag1 rho: Float, longitudes: Int) -> [Float] {
        let target = min(Double(rho), 0.99)
        guard target > 1e-4, longitudes >= 3 else { return [1] }
        func kernel(_ width: Double) -> [Double] {
            let h = min(Int((4 * width).rounded(.up)), (longitudes - 1) / 2)
            let k = (-h...h).map { exp(-Double($0 * $0) / (2 * width * width)) }
            let norm = k.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return k.map { $0 / norm }
        }
        func lag1(_ k: [Double]) -> Double { zip(k, k.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 } }
        var low = 0.05, high = Double(longitudes) / 4
        guard lag1(kernel(high)) > target else { return kernel(high).map { Float($0) } }
        for _ in 0..<60 {
            let middle = (low + high) / 2
            if lag1(kernel(middle)) < target { low = middle } else { high = middle }
        }
        return kernel((low + high) / 2).map { Float($0) }
    }

    /// Adds one draw of the noise to fields [T, lat, lon] (K) of consecutive months,
    /// calendar months `monthsOfYear` (1–12, one per field), drawing from `random`: per row,
    /// n[t] = a n[t−1] + √(1 − a²) (kernel ∗ white)[t] with a the month correlation, scaled by
    /// the standard deviation of the cell and calendar month.
    public func addNoise(to fields: inout [Float], monthsOfYear: [Int], random: inout RandomStream) {
        let nlat = grid.latitudeCount, nlon = grid.longitudeCount, cells = grid.cellCount
        precondition(fields.count == monthsOfYear.count * cells)
        let kernels = longitudeKernels, widest = kernels.map(\.count).max() ?? 1
        let persistence = monthCorrelation.map { min(max($0, 0), 0.99) }
        var white = [Float](repeating: 0, count: nlon), wrapped = [Float](repeating: 0, count: nlon + widest)
        var state = [Float](repeating: 0, count: cells)
        for (t, month) in monthsOfYear.enumerated() {
            for i in 0..<nlat {
                random.fillGaussian(&white)
                let k = kernels[i], h = k.count / 2
                // wrapped[h + j] = white[j], with h cells of the other end on either side.
                for j in 0..<(nlon + 2 * h) { wrapped[j] = white[(j - h + nlon) % nlon] }
                let row = t * cells + i * nlon, sd = (month - 1) * cells + i * nlon
                let a = t == 0 ? 0 : persistence[i], fresh = (1 - a * a).squareRoot()
                for j in 0..<nlon {
                    var value: Float = 0
                    for o in 0..<k.count { value += k[o] * wrapped[j + o] }
                    let unit = a * state[i * nlon + j] + fresh * value
                    state[i * nlon + j] = unit
                    fields[row + j] += standardDeviation[sd + j] * unit
                }
            }
        }
    }

    /// Accumulates original − reconstruction over members, then gives the statistics.
    public struct Estimator {
        public let grid: Grid
        private var sum: [Double], sumOfSquares: [Double], count: [Double]
        private var rowProducts: [Double], rowSquares: [Double], monthProducts: [Double], monthSquares: [Double]

        public init(grid: Grid) {
            self.grid = grid
            sum = Array(repeating: 0, count: 12 * grid.cellCount)
            sumOfSquares = sum
            count = Array(repeating: 0, count: 12)
            rowProducts = Array(repeating: 0, count: grid.latitudeCount)
            rowSquares = rowProducts
            monthProducts = rowProducts
            monthSquares = rowProducts
        }

        /// Adds the fields [T, lat, lon] of one member (K, consecutive months) and their
        /// reconstruction; calendar months 1–12.
        public mutating func add(original: [Float], reconstruction: [Float], monthsOfYear: [Int]) {
            let nlat = grid.latitudeCount, nlon = grid.longitudeCount, cells = grid.cellCount
            precondition(original.count == monthsOfYear.count * cells && reconstruction.count == original.count)
            var difference = [Double](repeating: 0, count: nlon)
            var previous = [Double](repeating: 0, count: cells)
            for (t, month) in monthsOfYear.enumerated() {
                count[month - 1] += 1
                for i in 0..<nlat {
                    let row = t * cells + i * nlon, slot = (month - 1) * cells + i * nlon
                    for j in 0..<nlon {
                        let d = Double(original[row + j]) - Double(reconstruction[row + j])
                        difference[j] = d
                        sum[slot + j] += d
                        sumOfSquares[slot + j] += d * d
                    }
                    for j in 0..<nlon {
                        rowProducts[i] += difference[j] * difference[(j + 1) % nlon]
                        rowSquares[i] += difference[j] * difference[j]
                        if t > 0 {
                            monthProducts[i] += difference[j] * previous[i * nlon + j]
                            monthSquares[i] += previous[i * nlon + j] * previous[i * nlon + j]
                        }
                        previous[i * nlon + j] = difference[j]
                    }
                }
            }
        }

        /// The statistics of everything added. A calendar month with fewer than two fields
        /// (annual data, say) takes the pooled within-month standard deviation of the cell.
        public func estimate(provenance: [String: String] = [:]) throws -> UnresolvedVariability {
            let cells = grid.cellCount
            let present = count.filter { $0 > 0 }.count, total = count.reduce(0, +)
            guard total - Double(present) >= 1 else {
                throw ModelError.checkpoint("unresolved variability needs at least two fields of one calendar month")
            }
            func deviations(_ month: Int, _ cell: Int) -> Double {
                let index = month * cells + cell
                return count[month] > 0 ? max(sumOfSquares[index] - sum[index] * sum[index] / count[month], 0) : 0
            }
            let pooled = (0..<cells).map { cell in ((0..<12).reduce(0.0) { $0 + deviations($1, cell) } / (total - Double(present))).squareRoot() }
            let sd = (0..<(12 * cells)).map { index -> Float in
                let month = index / cells, n = count[month]
                return Float(n >= 2 ? (deviations(month, index % cells) / (n - 1)).squareRoot() : pooled[index % cells])
            }
            func ratios(_ products: [Double], _ squares: [Double]) -> [Float] { zip(products, squares).map { $1 > 0 ? Float($0 / $1) : 0 } }
            return UnresolvedVariability(grid: grid, standardDeviation: sd, longitudeCorrelation: ratios(rowProducts, rowSquares),
                                         monthCorrelation: ratios(monthProducts, monthSquares), provenance: provenance)
        }
    }

    /// Writes the statistics (through a `.partial` file).
    public func save(to path: String) throws {
        try SafeTensors.write(["standard_deviation": Tensor(shape: [12, grid.latitudeCount, grid.longitudeCount], values: standardDeviation),
                               "longitude_correlation": Tensor(shape: [grid.latitudeCount], values: longitudeCorrelation),
                               "month_correlation": Tensor(shape: [grid.latitudeCount], values: monthCorrelation)],
                              metadata: ["format": Self.format, "grid": try CheckpointMetadata.json(grid),
                                         "provenance": try CheckpointMetadata.json(provenance)],
                              to: URL(fileURLWithPath: path))
    }

    /// Reads a file written by `save`, with errors naming the file.
    public static func load(_ path: String) throws -> UnresolvedVariability {
        let (tensors, metadata) = try SafeTensors.read(URL(fileURLWithPath: path))
        try CheckpointMetadata.requireFormat(format, kind: "unresolved-variability", in: metadata, path: path)
        let grid = try CheckpointMetadata.decode(Grid.self, "grid", in: metadata, path: path)
        let provenance = try CheckpointMetadata.decode([String: String].self, "provenance", in: metadata, path: path)
        guard let sd = tensors["standard_deviation"], sd.shape == [12, grid.latitudeCount, grid.longitudeCount],
              let correlation = tensors["longitude_correlation"], correlation.shape == [grid.latitudeCount],
              let months = tensors["month_correlation"], months.shape == [grid.latitudeCount] else {
            throw ModelError.checkpoint("\(path): standard_deviation [12, lat, lon], longitude_correlation [lat] or month_correlation [lat] is missing or has the wrong shape")
        }
        return UnresolvedVariability(grid: grid, standardDeviation: sd.values, longitudeCorrelation: correlation.values,
                                     monthCorrelation: months.values, provenance: provenance)
    }
}
