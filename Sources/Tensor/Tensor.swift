import Foundation
import RandomStreams

/// Heap storage of a tensor: 64-byte aligned Float32 values, freed with the last reference.
///
/// Storage has reference semantics on purpose: kernels write through `pointer` without any
/// copy-on-write check, and `Tensor.reshaped` shares it. Use `Tensor.copy()` for a deep copy.
public final class TensorStorage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    init(count: Int) {
        precondition(count >= 0, "negative tensor size")
        _ = TensorStorage.allocatorTuned
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Large tensors (im2col buffers of tens of MB) are allocated and freed every layer. By
    /// default glibc serves them with mmap/munmap, so each reuse page-faults fresh zeroed
    /// memory (measured: as much system time as compute in VAE decoding). Keeping freed
    /// blocks in the heap makes reuse free; peak memory is unchanged. Arenas are limited to
    /// two: with glibc's default (8 per core) worker threads allocate from arenas of their own,
    /// whose heaps are at most 64 MB and are unmapped when empty (a data-parallel VAE training
    /// step page-faulted 150 MB of fresh memory with them, 6 MB with one shared arena); with one
    /// arena the two sampling workers contend for its lock on every small tensor (inference
    /// allocates a few per layer and step: 2 autoregressive members took 4.2–5.3 s against
    /// 3.5–3.8 s with two arenas). Two arenas cost no time in training (data-parallel VAE step
    /// at 32×64: 205 ms either way; 96×192 training: 41 s either way, with 30% more page faults).
    private static let allocatorTuned: Void = {
        #if os(Linux)
        _ = glibcMallopt(-3, 1 << 30)   // M_MMAP_THRESHOLD
        _ = glibcMallopt(-1, 1 << 30)   // M_TRIM_THRESHOLD
        _ = glibcMallopt(-8, 2)         // M_ARENA_MAX
        #endif
    }()
}

#if os(Linux)
/// glibc's `int mallopt(int, int)` (declared in malloc.h, which the Glibc module does not export).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// A dense, contiguous, row-major Float32 array with a shape.
///
/// Image-like tensors are channels-last: [batch, height (latitude), width (longitude), channels].
/// Sequences are [batch, time, features]. A `Tensor` is a handle: copies of it share storage.
public struct Tensor {
    public let shape: [Int]
    public let storage: TensorStorage

    /// Number of elements (product of `shape`).
    public var count: Int { storage.count }
    /// Mutable access to the values; writes are visible through every handle sharing the storage.
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }
    public var rank: Int { shape.count }
    /// Size of the last dimension (1 for a scalar).
    public var lastDimension: Int { shape.last ?? 1 }

    /// Uninitialised values; every kernel that uses this writes all elements.
    public init(uninitializedShape shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: Tensor.elementCount(shape))
    }

    /// A tensor filled with `value` (zeros by default).
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(uninitializedShape: shape)
        pointer.update(repeating: value, count: count)
    }

    /// A tensor holding `values` (row-major); `values.count` must match `shape`.
    public init(shape: [Int], values: [Float]) {
        precondition(values.count == Tensor.elementCount(shape),
                     "Tensor: \(values.count) values for shape \(shape)")
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Standard-normal values scaled by `standardDeviation`, drawn from `random`.
    public init(gaussianShape shape: [Int], standardDeviation: Float = 1, random: inout RandomStream) {
        self.init(uninitializedShape: shape)
        for i in 0..<count { pointer[i] = Float(random.gaussian()) * standardDeviation }
    }

    /// Uniform values in [lower, upper), drawn from `random`.
    public init(uniformShape shape: [Int], lower: Float, upper: Float, random: inout RandomStream) {
        self.init(uninitializedShape: shape)
        let width = Double(upper - lower)
        for i in 0..<count { pointer[i] = lower + Float(random.uniform() * width) }
    }

    private init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.storage = storage
    }

    static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The same values under another shape with the same element count (no copy).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.elementCount(newShape) == count, "reshape \(shape) -> \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    /// A deep copy with its own storage.
    public func copy() -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        result.pointer.update(from: pointer, count: count)
        return result
    }

    /// The values as an array (row-major).
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public subscript(index: Int) -> Float {
        get { pointer[index] }
        nonmutating set { pointer[index] = newValue }
    }

    /// Sets every element to `value`.
    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    /// Copies the values of `other` (same element count) into this tensor.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assign: \(other.shape) into \(shape)")
        pointer.update(from: other.pointer, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = values.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor\(shape)[\(preview)\(count > 8 ? ", …" : "")]"
    }
}
