// The convolutional VAE that compresses normalised monthly temperature anomalies
// [batch, lat, lon, 1] into a latent grid [batch, lat/2^L, lon/2^L, latentChannels].

import Foundation
import RandomStreams
import Tensor

/// Shape of the autoencoder. `channels[i]` is the width at resolution level i; there are
/// `channels.count − 1` stride-2 downsamplings, so the latent grid is the input grid
/// divided by `downsampling` = 2^(channels.count − 1) in each direction.
public struct VAEConfiguration: Codable, Equatable, Sendable {
    public var channels: [Int]
    public var latentChannels: Int
    public var groups: Int
    /// Weight of the KL term relative to the area-weighted MSE of normalised anomalies.
    public var klWeight: Float

    public init(channels: [Int] = [32, 64, 128], latentChannels: Int = 4, groups: Int = 8, klWeight: Float = 1e-4) {
        self.channels = channels
        self.latentChannels = latentChannels
        self.groups = groups
        self.klWeight = klWeight
    }

    public var downsampling: Int { 1 << (channels.count - 1) }

    /// Input values per latent value for a grid of `latitudes` × `longitudes`, padded to
    /// multiples of `downsampling` (`GridPadding`), without a separated global mean.
    public func compressionRatio(latitudes: Int, longitudes: Int) -> Double {
        let d = downsampling
        let latent = ((latitudes + d - 1) / d) * ((longitudes + d - 1) / d) * latentChannels
        return Double(latitudes * longitudes) / Double(latent)
    }

    /// Throws when groups do not divide the channels. Any grid size is accepted: `TrainedVAE`
    /// pads the grid to multiples of `downsampling`.
    public func validate() throws {
        guard channels.allSatisfy({ $0 % groups == 0 }), latentChannels > 0 else {
            throw ModelError.invalidConfiguration("every channel count in \(channels) must be a multiple of \(groups) groups")
        }
    }
}

/// Encoder: conv 1→c₀; per level a residual block, then a stride-2 conv to the next width;
/// GroupNorm–SiLU–1×1 conv to mean and log-variance. Decoder: conv z→c_last; per level (coarse
/// to fine) a residual block, then nearest ×2 upsampling and a conv to the next width;
/// GroupNorm–SiLU–conv c₀→1. Every 3×3 conv pads geographically (reflect at the poles,
/// periodic in longitude).
public final class VariationalAutoencoder: Layer {
    public let configuration: VAEConfiguration
    let encoderInput: Conv2d
    let encoderBlocks: [ResidualBlock]
    let downsamplers: [Conv2d]
    let encoderNorm: GroupNorm
    let encoderOutput: Conv2d
    let decoderInput: Conv2d
    let decoderBlocks: [ResidualBlock]
    let upsamplers: [Conv2d]
    let decoderNorm: GroupNorm
    let decoderOutput: Conv2d

    public init(configuration: VAEConfiguration, random: inout RandomStream) {
        self.configuration = configuration
        let c = configuration.channels, g = configuration.groups, z = configuration.latentChannels
        let levels = c.count
        encoderInput = Conv2d("encoder.input", inputs: 1, outputs: c[0], random: &random)
        var blocks: [ResidualBlock] = [], downs: [Conv2d] = []
        for level in 0..<levels {
            blocks.append(ResidualBlock("encoder.level\(level).block", channels: c[level], groups: g, random: &random))
            if level + 1 < levels {
                downs.append(Conv2d("encoder.level\(level).down", inputs: c[level], outputs: c[level + 1], stride: 2,
                                    random: &random))
            }
        }
        encoderBlocks = blocks
        downsamplers = downs
        encoderNorm = GroupNorm("encoder.norm", channels: c[levels - 1], groups: g)
        encoderOutput = Conv2d("encoder.output", inputs: c[levels - 1], outputs: 2 * z, kernel: 1, random: &random)
        decoderInput = Conv2d("decoder.input", inputs: z, outputs: c[levels - 1], random: &random)
        var decoderBlocks: [ResidualBlock] = [], ups: [Conv2d] = []
        for level in stride(from: levels - 1, through: 0, by: -1) {
            decoderBlocks.append(ResidualBlock("decoder.level\(level).block", channels: c[level], groups: g, random: &random))
            if level > 0 {
                ups.append(Conv2d("decoder.level\(level).up", inputs: c[level], outputs: c[level - 1], random: &random))
            }
        }
        self.decoderBlocks = decoderBlocks
        upsamplers = ups
        decoderNorm = GroupNorm("decoder.norm", channels: c[0], groups: g)
        decoderOutput = Conv2d("decoder.output", inputs: c[0], outputs: 1, random: &random)
    }

    public var parameters: [Parameter] {
        var layers: [Layer] = [encoderInput]
        for (index, block) in encoderBlocks.enumerated() {
            layers.append(block)
            if index < downsamplers.count { layers.append(downsamplers[index]) }
        }
        layers += [encoderNorm, encoderOutput, decoderInput]
        for (index, block) in decoderBlocks.enumerated() {
            layers.append(block)
            if index < upsamplers.count { layers.append(upsamplers[index]) }
        }
        layers += [decoderNorm, decoderOutput]
        return layers.flatMap(\.parameters)
    }

    /// Mean and log-variance of q(z | x) for x [batch, lat, lon, 1]; each [batch, lat/d, lon/d, latentChannels].
    public func encode(_ x: Variable) -> (mean: Variable, logVariance: Variable) {
        var h = encoderInput(x)
        for (index, block) in encoderBlocks.enumerated() {
            h = block(h)
            if index < downsamplers.count { h = downsamplers[index](h) }
        }
        let moments = encoderOutput(encoderNorm(h).silu())
        let z = configuration.latentChannels
        let parts = moments.split([z, z])
        return (parts[0], parts[1])
    }

    /// Reconstruction [batch, lat, lon, 1] of latents z [batch, lat/d, lon/d, latentChannels].
    public func decode(_ z: Variable) -> Variable {
        var h = decoderInput(z)
        for (index, block) in decoderBlocks.enumerated() {
            h = block(h)
            if index < upsamplers.count { h = upsamplers[index](h.upsampledNearest()) }
        }
        return decoderOutput(decoderNorm(h).silu())
    }

    /// The training objective for a batch x [batch, lat, lon, 1] of normalised anomalies:
    /// area-weighted MSE of the reconstruction from a sampled z, plus klWeight × KL.
    /// `areaWeights` [lat, lon] have mean 1.
    public func loss(_ x: Tensor, areaWeights: Tensor, random: inout RandomStream)
        -> (total: Variable, reconstruction: Float, kl: Float) {
        let (mean, logVariance) = encode(Variable(x))
        let noise = Tensor(gaussianShape: mean.shape, random: &random)
        let z = mean + (logVariance * 0.5).exp() * Variable(noise)
        let reconstruction = Variable.weightedMeanSquaredError(decode(z), x, weights: areaWeights)
        let kl = Variable.gaussianKL(mean: mean, logVariance: logVariance)
        return (reconstruction + kl * configuration.klWeight, reconstruction.value[0], kl.value[0])
    }
}

/// A model problem a user can act on.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case gridMismatch(String)
    case checkpoint(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message), .gridMismatch(let message), .checkpoint(let message): return message
        }
    }
}
