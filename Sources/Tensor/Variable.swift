/// A node of the reverse-mode autodiff graph: a value, and how to send a gradient back to
/// the nodes it was computed from.
///
/// Operations on `Variable`s record their pullback only when an input requires a
/// gradient, so inference on constants builds no graph. `backward()` on a scalar loss
/// visits the graph once in reverse topological order; gradients accumulate (sum) over
/// every path, shared weights and skip connections included.
public final class Variable {
    /// The forward value.
    public let value: Tensor
    /// True when a gradient flows to this node (a parameter, or computed from one).
    public let requiresGradient: Bool
    let inputs: [Variable]
    let pullback: ((Tensor) -> Void)?
    private var gradientStorage: Tensor?
    private let keepsGradient: Bool

    /// A constant (no gradient).
    public init(_ value: Tensor) {
        self.value = value
        requiresGradient = false
        inputs = []
        pullback = nil
        keepsGradient = false
    }

    /// A leaf whose gradient accumulates into `gradient` (same shape as `value`).
    public init(_ value: Tensor, gradient: Tensor) {
        precondition(gradient.count == value.count, "gradient buffer \(gradient.shape) for \(value.shape)")
        self.value = value
        requiresGradient = true
        inputs = []
        pullback = nil
        gradientStorage = gradient
        keepsGradient = true
    }

    /// A leaf that requires a gradient; read it from `gradient` after `backward()`.
    public convenience init(requiringGradient value: Tensor) {
        self.init(value, gradient: Tensor(shape: value.shape))
    }

    /// An operation's result. `pullback` receives dL/d(result) and accumulates into the
    /// inputs' gradients; it is dropped when no input requires a gradient. A pullback must
    /// capture every tensor it reads (not only a pointer into it), or the storage is freed.
    init(_ value: Tensor, inputs: [Variable], pullback: @escaping (Tensor) -> Void) {
        self.value = value
        let needed = inputs.contains { $0.requiresGradient }
        requiresGradient = needed
        self.inputs = needed ? inputs : []
        self.pullback = needed ? pullback : nil
        keepsGradient = false
    }

    public var shape: [Int] { value.shape }

    /// The accumulated gradient (leaves keep theirs; intermediate gradients are released
    /// once propagated).
    public var gradient: Tensor? { gradientStorage }

    /// The gradient buffer, created as zeros on first use: kernels accumulate into it.
    func gradientBuffer() -> Tensor {
        if let existing = gradientStorage { return existing }
        let zeros = Tensor(shape: value.shape)
        gradientStorage = zeros
        return zeros
    }

    /// Adds `delta` to the gradient; `delta` must not be used by the caller afterwards
    /// (it may become the buffer itself).
    func accumulate(owned delta: Tensor) {
        guard requiresGradient else { return }
        if let existing = gradientStorage {
            addInPlace(existing, delta)
        } else {
            gradientStorage = delta.reshaped(value.shape)
        }
    }

    /// Back-propagates from this scalar (or, with `seed`, any-shaped) node.
    public func backward(seed: Tensor? = nil) {
        guard requiresGradient else { return }
        let start = seed ?? Tensor(shape: value.shape, repeating: 1)
        precondition(start.count == value.count, "backward seed \(start.shape) for \(value.shape)")
        if gradientStorage == nil && !keepsGradient {
            // Nothing in the graph writes to the root's gradient (it is nobody's input), and
            // pullbacks only read theirs: the caller's seed serves without a copy.
            gradientStorage = start.reshaped(value.shape)
        } else {
            accumulate(owned: start.copy())
        }
        for node in reverseTopologicalOrder() {
            guard let pullback = node.pullback, let gradient = node.gradientStorage else { continue }
            pullback(gradient)
            if !node.keepsGradient { node.gradientStorage = nil }
        }
    }

    /// Nodes reachable from self, each after every node that uses it.
    private func reverseTopologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for input in node.inputs where input.requiresGradient && input.pullback != nil {
                stack.append((input, false))
            }
        }
        return order.reversed()
    }
}

/// A trainable tensor with its gradient buffer, collected by layers.
public final class Parameter {
    /// Checkpoint name, e.g. "encoder.block1.conv1.weight".
    public var name: String
    public let value: Tensor
    public let gradient: Tensor

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        gradient = Tensor(shape: value.shape)
    }

    /// Gradient buffers of the parts of a `DataParallel.accumulateGradients` call, one per part.
    var partGradients: [Tensor] = []

    /// A graph leaf for one use of this parameter; every use accumulates into `gradient`
    /// (inside `DataParallel.accumulateGradients`, into the current part's buffer).
    /// A constant inside `GradientRecording.disabled`.
    public var variable: Variable {
        guard GradientRecording.isEnabled else { return Variable(value) }
        guard let part = DataParallel.part else { return Variable(value, gradient: gradient) }
        return Variable(value, gradient: partGradients[part])
    }

    public func zeroGradient() { gradient.fill(0) }
}

/// Whether parameters enter the graph as gradient leaves. Inference (encoding, sampling)
/// runs inside `GradientRecording.disabled { … }`: no pullbacks are recorded and
/// intermediate buffers are freed as soon as they are used.
public enum GradientRecording {
    nonisolated(unsafe) static var isEnabled = true

    /// Runs `body` with gradient recording off (restored afterwards).
    public static func disabled<T>(_ body: () throws -> T) rethrows -> T {
        let previous = isEnabled
        isEnabled = false
        defer { isEnabled = previous }
        return try body()
    }
}
