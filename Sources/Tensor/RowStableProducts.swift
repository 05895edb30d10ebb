import Foundation

// Dense layers whose output rows do not depend on the other rows of the call.
//
// OpenBLAS rounds a row of a product according to the matrix size (it picks other kernels
// for small matrices) and to the row's place in the matrix (0.3.21's Haswell SGEMM sums rows
// 0–5 of every 12 as two partial sums, rows 6–11 as one chain). A sampled member would then
// depend on how many members are sampled with it. Here every value is summed the same way
// whatever the rows around it: it starts from the bias and adds x[r, k] · w[k, j] for
// k = 0, 1, … with one fused multiply-add each, in register tiles of 8 rows × 32 columns
// (`SumTile8x32`), then of 4 rows and of single rows for what is left. The kernel reads the
// weight transposed, [inputs, outputs], so each product of a row is one broadcast and one
// vector; the transposed copies are made once per `RowStableProducts.enabled` scope (or
// shared through one `TransposedWeights`).

/// Switches `Variable.linear` to row-stable products for the duration of a closure.
public enum RowStableProducts {
    /// The transposed weights of the current scope (nil: products go to OpenBLAS).
    @TaskLocal static var weights: TransposedWeights?

    /// Runs `body` with every `linear` forward computed by the row-stable kernel: row r of
    /// the result depends only on row r of the input and on the weights, not on how many rows
    /// are computed with it or where it sits. Weights and biases must not change inside
    /// `body` (their transposed copies are kept in `weights`, which scopes on several threads
    /// may share). The scope is per thread.
    public static func enabled<T>(weights: TransposedWeights = TransposedWeights(), _ body: () throws -> T) rethrows -> T {
        try $weights.withValue(weights) { try body() }
    }

    /// Whether the current thread is inside `enabled`.
    public static var isEnabled: Bool { weights != nil }
}

/// Weights [outputs, inputs] transposed to [inputs, outputs′] and biases [outputs′], with
/// outputs′ the outputs rounded up to a multiple of 16 (zero columns), keyed by storage.
/// Each entry keeps its source storage alive, so an identifier is never reused while the
/// copies are kept. Thread-safe.
public final class TransposedWeights: @unchecked Sendable {
    private var entries: [ObjectIdentifier: (source: TensorStorage, copy: Tensor)] = [:]
    private let lock = NSLock()

    public init() {}

    /// The transposed, padded copy of `weight` [outputs, inputs].
    func transposed(_ weight: Tensor) -> Tensor {
        copy(of: weight, shape: [weight.shape[1], paddedColumns(weight.shape[0])]) { copy in
            let outputs = weight.shape[0], inputs = weight.shape[1], width = copy.shape[1]
            for o in 0..<outputs {
                for i in 0..<inputs { copy.pointer[i * width + o] = weight.pointer[o * inputs + i] }
            }
        }
    }

    /// `bias` [outputs] padded with zeros to a multiple of 16.
    func padded(_ bias: Tensor) -> Tensor {
        copy(of: bias, shape: [paddedColumns(bias.count)]) { $0.pointer.update(from: bias.pointer, count: bias.count) }
    }

    /// The kept copy of `source`, or a zero tensor of `shape` filled by `fill` and kept.
    private func copy(of source: Tensor, shape: [Int], _ fill: (Tensor) -> Void) -> Tensor {
        lock.lock()
        defer { lock.unlock() }
        if let entry = entries[ObjectIdentifier(source.storage)], entry.source === source.storage { return entry.copy }
        let copy = Tensor(shape: shape)
        fill(copy)
        entries[ObjectIdentifier(source.storage)] = (source.storage, copy)
        return copy
    }
}

/// `columns` rounded up to a multiple of 16 (one vector).
func paddedColumns(_ columns: Int) -> Int { (columns + 15) / 16 * 16 }

/// out[r, j] = bias[j] + Σ_k x[r · xStride + k] · weight[k · weightStride + j] for r < rows,
/// j < columns (a multiple of 16), k < inputs; each value summed in k order with one fused
/// multiply-add per product, starting from bias[j] (0 without a bias).
func rowStableProduct(_ x: UnsafePointer<Float>, rows: Int, inputs: Int, xStride: Int,
                      weight: UnsafePointer<Float>, weightStride: Int, columns: Int, bias: UnsafePointer<Float>?,
                      into out: UnsafeMutablePointer<Float>, outStride: Int) {
    precondition(columns % 16 == 0, "row-stable product: \(columns) columns, not a multiple of 16")
    let zero = SIMD16<Float>(repeating: 0)
    func start(_ j: Int) -> SIMD16<Float> { bias.map { load16($0 + j) } ?? zero }
    var r = 0
    while r + 8 <= rows {
        let xr = x + r * xStride, target = out + r * outStride
        var j = 0
        while j + 32 <= columns {
            var tile = SumTile8x32(start(j), start(j + 16))
            for k in 0..<inputs {
                let w = weight + k * weightStride + j
                tile.addProducts(xr + k, stride: xStride, load16(w), load16(w + 16))
            }
            tile.store(target + j, rowStride: outStride)
            j += 32
        }
        if j < columns {
            var tile = SumTile8x16(start(j))
            for k in 0..<inputs { tile.addProducts(xr + k, stride: xStride, load16(weight + k * weightStride + j)) }
            tile.store(target + j, rowStride: outStride)
        }
        r += 8
    }
    // The rows left over, four and then one at a time: the same sums as a tile row.
    while r + 4 <= rows {
        let x0 = x + r * xStride, x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride
        let target = out + r * outStride
        var j = 0
        while j + 32 <= columns {
            var a0 = start(j), b0 = start(j + 16)
            var a1 = a0, b1 = b0, a2 = a0, b2 = b0, a3 = a0, b3 = b0
            for k in 0..<inputs {
                let w = weight + k * weightStride + j, first = load16(w), second = load16(w + 16)
                let v0 = SIMD16<Float>(repeating: x0[k]), v1 = SIMD16<Float>(repeating: x1[k])
                let v2 = SIMD16<Float>(repeating: x2[k]), v3 = SIMD16<Float>(repeating: x3[k])
                a0.addProduct(v0, first); b0.addProduct(v0, second)
                a1.addProduct(v1, first); b1.addProduct(v1, second)
                a2.addProduct(v2, first); b2.addProduct(v2, second)
                a3.addProduct(v3, first); b3.addProduct(v3, second)
            }
            store16(a0, target + j); store16(b0, target + j + 16)
            store16(a1, target + outStride + j); store16(b1, target + outStride + j + 16)
            store16(a2, target + 2 * outStride + j); store16(b2, target + 2 * outStride + j + 16)
            store16(a3, target + 3 * outStride + j); store16(b3, target + 3 * outStride + j + 16)
            j += 32
        }
        if j < columns {
            var a0 = start(j)
            var a1 = a0, a2 = a0, a3 = a0
            for k in 0..<inputs {
                let first = load16(weight + k * weightStride + j)
                a0.addProduct(SIMD16<Float>(repeating: x0[k]), first); a1.addProduct(SIMD16<Float>(repeating: x1[k]), first)
                a2.addProduct(SIMD16<Float>(repeating: x2[k]), first); a3.addProduct(SIMD16<Float>(repeating: x3[k]), first)
            }
            store16(a0, target + j); store16(a1, target + outStride + j)
            store16(a2, target + 2 * outStride + j); store16(a3, target + 3 * outStride + j)
        }
        r += 4
    }
    while r < rows {
        let xr = x + r * xStride, target = out + r * outStride
        var j = 0
        // 256 columns per pass while they last: a lone row is bound by reading the weight,
        // which then streams in runs of 1 KB instead of 256 B.
        while j + 256 <= columns {
            var tile = RowTile256(bias.map { $0 + j })
            for k in 0..<inputs { tile.addProducts(xr[k], weight + k * weightStride + j) }
            tile.store(target + j)
            j += 256
        }
        while j + 64 <= columns {
            var s0 = start(j), s1 = start(j + 16), s2 = start(j + 32), s3 = start(j + 48)
            for k in 0..<inputs {
                let v = SIMD16<Float>(repeating: xr[k]), w = weight + k * weightStride + j
                s0.addProduct(v, load16(w)); s1.addProduct(v, load16(w + 16))
                s2.addProduct(v, load16(w + 32)); s3.addProduct(v, load16(w + 48))
            }
            store16(s0, target + j); store16(s1, target + j + 16)
            store16(s2, target + j + 32); store16(s3, target + j + 48)
            j += 64
        }
        while j < columns {
            var s = start(j)
            for k in 0..<inputs { s.addProduct(SIMD16<Float>(repeating: xr[k]), load16(weight + k * weightStride + j)) }
            store16(s, target + j)
            j += 16
        }
        r += 1
    }
}

/// The forward of `Variable.linear` by `rowStableProduct`: x [rows, inputs.count] times the
/// columns `inputs` and rows `outputs` of weight [allOutputs, allInputs], plus bias[outputs].
func rowStableLinear(_ x: Tensor, rows: Int, weight: Tensor, bias: Tensor?, inputs: Range<Int>, outputs: Range<Int>,
                     weights cache: TransposedWeights, into result: Tensor) {
    let transposed = cache.transposed(weight), stride = transposed.shape[1]
    let paddedBias = bias.map { cache.padded($0) }
    // Whole vectors of the padded transposed weight that cover the outputs.
    let first = outputs.lowerBound / 16 * 16, columns = paddedColumns(outputs.upperBound) - first
    let w = transposed.pointer + inputs.lowerBound * stride + first, b = paddedBias.map { $0.pointer + first }
    if first == outputs.lowerBound && columns == outputs.count {
        rowStableProduct(x.pointer, rows: rows, inputs: inputs.count, xStride: inputs.count, weight: w, weightStride: stride,
                         columns: columns, bias: b, into: result.pointer, outStride: columns)
        return
    }
    let scratch = Tensor(uninitializedShape: [rows, columns]), offset = outputs.lowerBound - first
    rowStableProduct(x.pointer, rows: rows, inputs: inputs.count, xStride: inputs.count, weight: w, weightStride: stride,
                     columns: columns, bias: b, into: scratch.pointer, outStride: columns)
    for r in 0..<rows {
        (result.pointer + r * outputs.count).update(from: scratch.pointer + r * columns + offset, count: outputs.count)
    }
}

/// One row of 256 sums in 16 vector registers (columns 16i…16i + 15 in `low.i` for i < 8,
/// `high.(i − 8)` after): the single-row tile of `rowStableProduct`.
struct RowTile256 {
    typealias Eight = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                       SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
    var low: Eight, high: Eight

    /// Starts from bias[0..<256], or zeros.
    @inline(__always)
    init(_ bias: UnsafePointer<Float>?) {
        guard let b = bias else {
            let z = SIMD16<Float>(repeating: 0)
            low = (z, z, z, z, z, z, z, z); high = low
            return
        }
        low = (load16(b), load16(b + 16), load16(b + 32), load16(b + 48),
               load16(b + 64), load16(b + 80), load16(b + 96), load16(b + 112))
        high = (load16(b + 128), load16(b + 144), load16(b + 160), load16(b + 176),
                load16(b + 192), load16(b + 208), load16(b + 224), load16(b + 240))
    }

    /// Columns += value · w[0..<256].
    @inline(__always)
    mutating func addProducts(_ value: Float, _ w: UnsafePointer<Float>) {
        let v = SIMD16<Float>(repeating: value)
        low.0.addProduct(v, load16(w)); low.1.addProduct(v, load16(w + 16))
        low.2.addProduct(v, load16(w + 32)); low.3.addProduct(v, load16(w + 48))
        low.4.addProduct(v, load16(w + 64)); low.5.addProduct(v, load16(w + 80))
        low.6.addProduct(v, load16(w + 96)); low.7.addProduct(v, load16(w + 112))
        high.0.addProduct(v, load16(w + 128)); high.1.addProduct(v, load16(w + 144))
        high.2.addProduct(v, load16(w + 160)); high.3.addProduct(v, load16(w + 176))
        high.4.addProduct(v, load16(w + 192)); high.5.addProduct(v, load16(w + 208))
        high.6.addProduct(v, load16(w + 224)); high.7.addProduct(v, load16(w + 240))
    }

    @inline(__always)
    func store(_ p: UnsafeMutablePointer<Float>) {
        store16(low.0, p); store16(low.1, p + 16); store16(low.2, p + 32); store16(low.3, p + 48)
        store16(low.4, p + 64); store16(low.5, p + 80); store16(low.6, p + 96); store16(low.7, p + 112)
        store16(high.0, p + 128); store16(high.1, p + 144); store16(high.2, p + 160); store16(high.3, p + 176)
        store16(high.4, p + 192); store16(high.5, p + 208); store16(high.6, p + 224); store16(high.7, p + 240)
    }
}
