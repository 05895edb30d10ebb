// The denoising networks of the latent diffusion model. Both see the same inputs
// (`DenoiserInput`) and predict v for the block of months being generated; they differ
// in how many months a block holds and how they mix information over time.

import Foundation
import RandomStreams
import Tensor

/// Which sequence generator a model uses (`--generator`).
public enum GeneratorKind: String, Codable, Sendable, CaseIterable {
    /// One month per block, conditioned on the last k generated months (an MLP).
    case autoregressive
    /// A window of months denoised jointly with self-attention over time.
    case transformer
}

/// Sizes of a latent diffusion model.
public struct DiffusionConfiguration: Codable, Equatable, Sendable {
    public var generator: GeneratorKind
    /// Values per month in the latent (lat/d · lon/d · channels of the VAE).
    public var latentDimension: Int
    /// Hidden width of the network.
    public var width: Int
    /// Residual MLP blocks (autoregressive) or transformer blocks.
    public var layers: Int
    /// Attention heads (transformer).
    public var heads: Int
    /// Known months the network sees before the block: the last k generated months
    /// (autoregressive) or the tail of the previous window (transformer).
    public var contextMonths: Int
    /// New months per block: 1 (autoregressive) or the window minus the context (transformer).
    public var blockMonths: Int
    /// Diffusion steps T of the training process.
    public var diffusionSteps: Int
    /// Transformer: each token also carries the values of this many months on either side,
    /// so that the first layer already sees each month's neighbours (0 = off; checkpoints
    /// written before this setting existed read as 0).
    public var neighbourMonths: Int
    /// Values per latent dimension the network is given of each conditioning month: 1, or 2
    /// for `ConditioningForm.both` (checkpoints written before this setting read as 1).
    public var conditioningForms: Int

    public init(generator: GeneratorKind, latentDimension: Int, width: Int? = nil, layers: Int? = nil, heads: Int = 4,
                contextMonths: Int? = nil, blockMonths: Int? = nil, diffusionSteps: Int = 1000, neighbourMonths: Int? = nil,
                conditioningForms: Int = 1) {
        self.generator = generator
        self.latentDimension = latentDimension
        self.width = width ?? 256
        self.layers = layers ?? (generator == .autoregressive ? 4 : 2)
        self.heads = heads
        self.contextMonths = contextMonths ?? (generator == .autoregressive ? 3 : 8)
        self.blockMonths = blockMonths ?? (generator == .autoregressive ? 1 : 40)
        self.diffusionSteps = diffusionSteps
        self.neighbourMonths = neighbourMonths ?? (generator == .autoregressive ? 0 : 1)
        self.conditioningForms = conditioningForms
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        generator = try c.decode(GeneratorKind.self, forKey: .generator)
        latentDimension = try c.decode(Int.self, forKey: .latentDimension)
        width = try c.decode(Int.self, forKey: .width)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        contextMonths = try c.decode(Int.self, forKey: .contextMonths)
        blockMonths = try c.decode(Int.self, forKey: .blockMonths)
        diffusionSteps = try c.decode(Int.self, forKey: .diffusionSteps)
        neighbourMonths = try c.decodeIfPresent(Int.self, forKey: .neighbourMonths) ?? 0
        conditioningForms = try c.decodeIfPresent(Int.self, forKey: .conditioningForms) ?? 1
    }

    /// Months the network sees at once (context + block).
    public var windowMonths: Int { contextMonths + blockMonths }
    /// Conditioning values per month, conditioningForms · latentDimension.
    public var conditioningWidth: Int { conditioningForms * latentDimension }
}

/// Inputs of one denoising call for a batch of B sequences.
public struct DenoiserInput {
    /// Noisy residuals of the block, [B, blockMonths, D].
    public var noisy: Tensor
    /// Normalised conditioning latents over context and block, [B, windowMonths, C]
    /// (C = `DiffusionConfiguration.conditioningWidth`).
    public var conditioning: Tensor
    /// Known residuals before the block, [B, contextMonths, D] (zeros where unknown).
    public var context: Tensor
    /// 1 where the context month is known, 0 before the start of the series: [B, contextMonths].
    public var contextMask: Tensor
    /// Calendar month (0 = January) of each month of the window, [B · windowMonths].
    public var monthsOfYear: [Int]
    /// Diffusion timestep of each sequence, [B].
    public var timesteps: [Int]

    public var batch: Int { noisy.shape[0] }
}

/// A denoising network over blocks of latent months: predicts v for `input.noisy`.
public protocol SequenceGenerator: Layer {
    var configuration: DiffusionConfiguration { get }
    /// v-prediction [B, blockMonths, D].
    func predict(_ input: DenoiserInput) -> Variable
    /// The v-prediction for a block whose conditioning, context and months are those of
    /// `input`, as a function of the noisy values and the timesteps (inference only): work
    /// that depends on neither is done once per block instead of once per sampling step.
    /// Equals `predict` up to float rounding.
    func denoiser(for input: DenoiserInput) -> (DenoiserInput) -> Tensor
}

extension SequenceGenerator {
    public func denoiser(for input: DenoiserInput) -> (DenoiserInput) -> Tensor {
        { self.predict($0).value }
    }
}

/// Sinusoidal timestep features through a two-layer MLP: [B] → [B, width].
final class TimestepEmbedder: Layer {
    let first: Linear, second: Linear
    let features = 64

    init(_ name: String, width: Int, random: inout RandomStream) {
        first = Linear(name + ".first", inputs: features, outputs: width, random: &random)
        second = Linear(name + ".second", inputs: width, outputs: width, random: &random)
    }

    var parameters: [Parameter] { first.parameters + second.parameters }

    func callAsFunction(_ timesteps: [Int]) -> Variable {
        second(first(Variable(timestepEmbedding(timesteps.map(Float.init), dimension: features))).silu())
    }
}

/// One-hot calendar months [count, 12].
func monthOneHot(_ months: [Int]) -> Tensor {
    let result = Tensor(shape: [months.count, 12])
    for (row, month) in months.enumerated() { result[row * 12 + month] = 1 }
    return result
}

/// The autoregressive denoiser: an MLP with residual blocks on
/// [noisy r[t], z_c over the window, the last k residuals, their mask], plus month-of-year
/// and timestep embeddings added to the hidden state.
public final class AutoregressiveGenerator: SequenceGenerator {
    public let configuration: DiffusionConfiguration
    let input: Linear, month: Linear, time: TimestepEmbedder
    let norms: [LayerNorm], ups: [Linear], downs: [Linear]
    let outputNorm: LayerNorm, output: Linear

    public init(configuration: DiffusionConfiguration, random: inout RandomStream) {
        precondition(configuration.blockMonths == 1, "the autoregressive generator makes one month per block")
        self.configuration = configuration
        let d = configuration.latentDimension, k = configuration.contextMonths, h = configuration.width
        input = Linear("ar.input", inputs: d + (k + 1) * configuration.conditioningWidth + k * d + k, outputs: h, random: &random)
        month = Linear("ar.month", inputs: 12, outputs: h, bias: false, random: &random)
        time = TimestepEmbedder("ar.time", width: h, random: &random)
        norms = (0..<configuration.layers).map { LayerNorm("ar.block\($0).norm", width: h) }
        ups = (0..<configuration.layers).map { Linear("ar.block\($0).up", inputs: h, outputs: 2 * h, random: &random) }
        downs = (0..<configuration.layers).map { Linear("ar.block\($0).down", inputs: 2 * h, outputs: h, random: &random) }
        outputNorm = LayerNorm("ar.output.norm", width: h)
        output = Linear("ar.output", inputs: h, outputs: d, random: &random)
    }

    public var parameters: [Parameter] {
        var all = input.parameters + month.parameters + time.parameters
        for i in 0..<norms.count { all += norms[i].parameters + ups[i].parameters + downs[i].parameters }
        return all + outputNorm.parameters + output.parameters
    }

    public func predict(_ x: DenoiserInput) -> Variable {
        let b = x.batch, d = configuration.latentDimension
        let features = Variable.concatenate([Variable(x.noisy.reshaped([b, d])), Variable(knownFeatures(x))])
        return trunk(input(features) + month(Variable(generatedMonths(x))) + time(x.timesteps), batch: b)
    }

    /// Splits the input layer: W·[noisy, known] + bias = W_noisy·noisy + (W_known·known + bias),
    /// the second term (and the month embedding) computed once per block. A sampling step
    /// then costs about a quarter less.
    public func denoiser(for x: DenoiserInput) -> (DenoiserInput) -> Tensor {
        let b = x.batch, d = configuration.latentDimension
        let known = knownFeatures(x), weight = input.weight.variable
        let constant = GradientRecording.disabled {
            Variable.linear(Variable(known), weight: weight, bias: input.bias?.variable, inputs: d..<(d + known.lastDimension))
                + month(Variable(generatedMonths(x)))
        }
        return { step in
            GradientRecording.disabled {
                let noisy = Variable.linear(Variable(step.noisy.reshaped([b, d])), weight: weight, bias: nil, inputs: 0..<d)
                // The sampler steps every sequence of a block together: one embedding row then.
                let shared = step.timesteps.allSatisfy { $0 == step.timesteps[0] }
                let time = shared ? self.time([step.timesteps[0]]) : self.time(step.timesteps)
                return self.trunk(noisy + constant + time, batch: b).value
            }
        }
    }

    /// [z_c over the window, the last k residuals, their mask]: [B, w·C + k·D + k].
    private func knownFeatures(_ x: DenoiserInput) -> Tensor {
        let b = x.batch, d = configuration.latentDimension, k = configuration.contextMonths, w = configuration.windowMonths
        return Variable.concatenate([
            Variable(x.conditioning.reshaped([b, w * configuration.conditioningWidth])), Variable(x.context.reshaped([b, k * d])),
            Variable(x.contextMask.reshaped([b, k])),
        ]).value
    }

    /// One-hot calendar month of the generated month (the last of the window), [B, 12].
    private func generatedMonths(_ x: DenoiserInput) -> Tensor {
        let w = configuration.windowMonths
        return monthOneHot((0..<x.batch).map { x.monthsOfYear[$0 * w + w - 1] })
    }

    /// Residual MLP blocks and the output layer on the hidden state [B, width] → v [B, 1, D].
    private func trunk(_ hidden: Variable, batch b: Int) -> Variable {
        var h = hidden
        for i in 0..<norms.count {
            h = h + downs[i](ups[i](norms[i](h)).silu())
        }
        return output(outputNorm(h)).reshaped([b, 1, configuration.latentDimension])
    }
}

/// The transformer denoiser: one token per month of the window (context months carry
/// their known residuals and a flag, block months their noisy residuals), each with the
/// conditioning latent and the values of its `neighbourMonths` neighbours on either side;
/// learned position, month-of-year and timestep embeddings; pre-LN transformer blocks; v
/// read off the block tokens.
public final class TransformerGenerator: SequenceGenerator {
    public let configuration: DiffusionConfiguration
    let input: Linear, month: Linear, time: TimestepEmbedder
    let position: Parameter
    let blocks: [TransformerBlock]
    let outputNorm: LayerNorm, output: Linear

    public init(configuration: DiffusionConfiguration, random: inout RandomStream) {
        self.configuration = configuration
        let d = configuration.latentDimension, h = configuration.width, w = configuration.windowMonths
        input = Linear("transformer.input", inputs: (1 + 2 * configuration.neighbourMonths) * d + configuration.conditioningWidth + 2,
                       outputs: h, random: &random)
        month = Linear("transformer.month", inputs: 12, outputs: h, bias: false, random: &random)
        time = TimestepEmbedder("transformer.time", width: h, random: &random)
        position = Parameter(name: "transformer.position", value: Tensor(gaussianShape: [w, h], standardDeviation: 0.02, random: &random))
        blocks = (0..<configuration.layers).map {
            TransformerBlock("transformer.block\($0)", width: h, heads: configuration.heads, random: &random)
        }
        outputNorm = LayerNorm("transformer.output.norm", width: h)
        output = Linear("transformer.output", inputs: h, outputs: d, random: &random)
    }

    public var parameters: [Parameter] {
        input.parameters + month.parameters + time.parameters + [position] + blocks.flatMap(\.parameters)
            + outputNorm.parameters + output.parameters
    }

    public func predict(_ x: DenoiserInput) -> Variable {
        let b = x.batch, d = configuration.latentDimension, k = configuration.contextMonths
        let l = configuration.blockMonths, w = configuration.windowMonths, h = configuration.width
        precondition(x.noisy.shape == [b, l, d], "transformer: noisy block \(x.noisy.shape), expected [\(b), \(l), \(d)]")
        // Token values [B, w, D] (context then block) and flags [B, w, 2]: (is context, is known).
        let values = Tensor(uninitializedShape: [b, w, d]), flags = Tensor(shape: [b, w, 2])
        for s in 0..<b {
            (values.pointer + s * w * d).update(from: x.context.pointer + s * k * d, count: k * d)
            (values.pointer + (s * w + k) * d).update(from: x.noisy.pointer + s * l * d, count: l * d)
            for m in 0..<k {
                flags[(s * w + m) * 2] = 1
                flags[(s * w + m) * 2 + 1] = x.contextMask[s * k + m]
            }
        }
        var features = [Variable(values), Variable(x.conditioning), Variable(flags)]
        if configuration.neighbourMonths > 0 {
            for offset in 1...configuration.neighbourMonths {
                features += [Variable(shifted(values, by: -offset)), Variable(shifted(values, by: offset))]
            }
        }
        let tokens = Variable.concatenate(features)
        var hidden = input(tokens) + position.variable
            + month(Variable(monthOneHot(x.monthsOfYear))).reshaped([b, w, h])
            + time(x.timesteps).reshaped([b, 1, h])
        // v is read off the block months only: the last block computes no more than their
        // attention queries and MLP (the context months still serve as keys and values).
        for (index, block) in blocks.enumerated() {
            hidden = block(hidden, keeping: index == blocks.count - 1 ? k..<w : nil)
        }
        return output(outputNorm(blocks.isEmpty ? hidden.slice(time: k..<w) : hidden))
    }
}

/// `values` [B, w, D] moved `offset` months along time: result[t] = values[t + offset], zero
/// where t + offset falls outside the window.
func shifted(_ values: Tensor, by offset: Int) -> Tensor {
    let (b, w, d) = (values.shape[0], values.shape[1], values.shape[2])
    let result = Tensor(shape: values.shape)
    for s in 0..<b {
        for t in max(0, -offset)..<min(w, w - offset) {
            (result.pointer + (s * w + t) * d).update(from: values.pointer + (s * w + t + offset) * d, count: d)
        }
    }
    return result
}

/// Builds the generator a configuration names.
public func makeSequenceGenerator(_ configuration: DiffusionConfiguration, random: inout RandomStream) -> SequenceGenerator {
    switch configuration.generator {
    case .autoregressive: return AutoregressiveGenerator(configuration: configuration, random: &random)
    case .transformer: return TransformerGenerator(configuration: configuration, random: &random)
    }
}
