// Layers: parameter-owning building blocks composed by the models.

import RandomStreams

/// Something with trainable parameters.
public protocol Layer: AnyObject {
    /// Every parameter, in a fixed order, with dotted checkpoint names.
    var parameters: [Parameter] { get }
}

extension Layer {
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }
    /// Total number of scalar parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

/// PyTorch's default initialisation: U(−1/√fan_in, 1/√fan_in).
func fanInUniform(_ shape: [Int], fanIn: Int, random: inout RandomStream) -> Tensor {
    let bound = 1 / Float(fanIn).squareRoot()
    return Tensor(uniformShape: shape, lower: -bound, upper: bound, random: &random)
}

/// y = x · Wᵀ + b over the last dimension; weight [out, in], bias [out].
public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ name: String, inputs: Int, outputs: Int, bias: Bool = true, random: inout RandomStream) {
        weight = Parameter(name: name + ".weight", value: fanInUniform([outputs, inputs], fanIn: inputs, random: &random))
        self.bias = bias ? Parameter(name: name + ".bias", value: fanInUniform([outputs], fanIn: inputs, random: &random)) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    /// x [..., in] → [..., out], or [..., outputs.count] for a range of the outputs.
    public func callAsFunction(_ x: Variable, outputs: Range<Int>? = nil) -> Variable {
        .linear(x, weight: weight.variable, bias: bias?.variable, outputs: outputs)
    }
}

/// k×k convolution on [batch, lat, lon, channels]; weight [k, k, in, out], bias [out].
public final class Conv2d: Layer {
    public let weight: Parameter
    public let bias: Parameter
    public let stride: Int
    public let padding: Padding

    public init(_ name: String, inputs: Int, outputs: Int, kernel: Int = 3, stride: Int = 1,
                padding: Padding = .geographic, random: inout RandomStream) {
        let fanIn = kernel * kernel * inputs
        weight = Parameter(name: name + ".weight",
                           value: fanInUniform([kernel, kernel, inputs, outputs], fanIn: fanIn, random: &random))
        bias = Parameter(name: name + ".bias", value: fanInUniform([outputs], fanIn: fanIn, random: &random))
        self.stride = stride
        self.padding = padding
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func callAsFunction(_ x: Variable) -> Variable {
        .conv2d(x, weight: weight.variable, bias: bias.variable, stride: stride, padding: padding)
    }
}

/// Group normalisation with learned per-channel scale (ones) and shift (zeros).
public final class GroupNorm: Layer {
    public let gamma: Parameter
    public let beta: Parameter
    public let groups: Int

    public init(_ name: String, channels: Int, groups: Int = 8) {
        precondition(channels % groups == 0, "GroupNorm \(name): \(channels) channels in \(groups) groups")
        gamma = Parameter(name: name + ".weight", value: Tensor(shape: [channels], repeating: 1))
        beta = Parameter(name: name + ".bias", value: Tensor(shape: [channels]))
        self.groups = groups
    }

    public var parameters: [Parameter] { [gamma, beta] }

    public func callAsFunction(_ x: Variable) -> Variable {
        .groupNorm(x, groups: groups, gamma: gamma.variable, beta: beta.variable)
    }
}

/// Layer normalisation over the last dimension with learned scale and shift.
public final class LayerNorm: Layer {
    public let gamma: Parameter
    public let beta: Parameter

    public init(_ name: String, width: Int) {
        gamma = Parameter(name: name + ".weight", value: Tensor(shape: [width], repeating: 1))
        beta = Parameter(name: name + ".bias", value: Tensor(shape: [width]))
    }

    public var parameters: [Parameter] { [gamma, beta] }

    public func callAsFunction(_ x: Variable) -> Variable {
        .layerNorm(x, gamma: gamma.variable, beta: beta.variable)
    }
}

/// Pre-activation residual block: x + conv(SiLU(GN(conv(SiLU(GN(x)))))), channels kept.
public final class ResidualBlock: Layer {
    let norm1: GroupNorm, conv1: Conv2d, norm2: GroupNorm, conv2: Conv2d

    public init(_ name: String, channels: Int, groups: Int = 8, random: inout RandomStream) {
        norm1 = GroupNorm(name + ".norm1", channels: channels, groups: groups)
        conv1 = Conv2d(name + ".conv1", inputs: channels, outputs: channels, random: &random)
        norm2 = GroupNorm(name + ".norm2", channels: channels, groups: groups)
        conv2 = Conv2d(name + ".conv2", inputs: channels, outputs: channels, random: &random)
    }

    public var parameters: [Parameter] { norm1.parameters + conv1.parameters + norm2.parameters + conv2.parameters }

    public func callAsFunction(_ x: Variable) -> Variable {
        x + conv2(norm2(conv1(norm1(x).silu())).silu())
    }
}

/// Multi-head self-attention over [batch, time, width]: fused QKV projection, scaled
/// dot-product attention, output projection.
public final class MultiHeadSelfAttention: Layer {
    let qkv: Linear, output: Linear
    public let heads: Int

    public init(_ name: String, width: Int, heads: Int, random: inout RandomStream) {
        precondition(width % heads == 0, "attention \(name): width \(width) not divisible by \(heads) heads")
        qkv = Linear(name + ".qkv", inputs: width, outputs: 3 * width, random: &random)
        output = Linear(name + ".out", inputs: width, outputs: width, random: &random)
        self.heads = heads
    }

    public var parameters: [Parameter] { qkv.parameters + output.parameters }

    /// x [batch, time, width] → [batch, time, width]; with `queries`, only those months
    /// attend (to all months): [batch, queries.count, width].
    public func callAsFunction(_ x: Variable, causal: Bool = false, queries: Range<Int>? = nil) -> Variable {
        let width = x.value.lastDimension
        guard let queries, queries != 0..<x.shape[1] else {
            return output(.attention(fusedQKV: qkv(x), heads: heads, causal: causal))
        }
        precondition(!causal, "attention \(qkv.weight.name): a causal mask needs every month as a query")
        let query = qkv(x.slice(time: queries), outputs: 0..<width)
        return output(.attention(query: query, fusedKeyValue: qkv(x, outputs: width..<3 * width), heads: heads))
    }
}

/// Pre-LN transformer block: x + MHSA(LN(x)), then + MLP(LN(·)) with GELU and a 4× hidden width.
public final class TransformerBlock: Layer {
    let norm1: LayerNorm, attention: MultiHeadSelfAttention, norm2: LayerNorm, up: Linear, down: Linear

    public init(_ name: String, width: Int, heads: Int, expansion: Int = 4, random: inout RandomStream) {
        norm1 = LayerNorm(name + ".norm1", width: width)
        attention = MultiHeadSelfAttention(name + ".attention", width: width, heads: heads, random: &random)
        norm2 = LayerNorm(name + ".norm2", width: width)
        up = Linear(name + ".mlp.up", inputs: width, outputs: expansion * width, random: &random)
        down = Linear(name + ".mlp.down", inputs: expansion * width, outputs: width, random: &random)
    }

    public var parameters: [Parameter] {
        norm1.parameters + attention.parameters + norm2.parameters + up.parameters + down.parameters
    }

    /// x [batch, time, width] → the same shape; with `keeping`, only those months are
    /// computed past the attention (the others still serve as keys and values):
    /// [batch, keeping.count, width], equal to slicing the full result.
    public func callAsFunction(_ x: Variable, causal: Bool = false, keeping: Range<Int>? = nil) -> Variable {
        let subset = keeping == 0..<x.shape[1] ? nil : keeping
        let h = (subset.map { x.slice(time: $0) } ?? x) + attention(norm1(x), causal: causal, queries: subset)
        return h + down(up(norm2(h)).gelu())
    }
}
