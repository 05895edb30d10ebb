import XCTest
import Climate
import RandomStreams
@testable import Tensor
@testable import Models

final class VariationalAutoencoderTests: XCTestCase {
    func smoothFields(_ count: Int, latitudes: Int, longitudes: Int, seed: UInt64) -> Tensor {
        var random = RandomStream(seed: seed)
        let x = Tensor(uninitializedShape: [count, latitudes, longitudes, 1])
        for n in 0..<count {
            let (a, b, phase) = (random.gaussian(), random.gaussian(), random.uniform() * 6.28)
            for i in 0..<latitudes { for j in 0..<longitudes {
                let lon = Double(j) / Double(longitudes) * 2 * .pi, lat = Double(i) / Double(latitudes) * .pi
                x[(n * latitudes + i) * longitudes + j] = Float(a * sin(lon + phase) * sin(lat) + b * cos(2 * lat))
            } }
        }
        return x
    }

    func testShapesAndCompressionRatio() {
        for (channels, latent, ratio) in [([8, 16, 16], 4, 4.0), ([8, 16, 16, 16], 2, 32.0)] {
            let configuration = VAEConfiguration(channels: channels, latentChannels: latent, groups: 4)
            var random = RandomStream(seed: 1)
            let vae = VariationalAutoencoder(configuration: configuration, random: &random)
            let x = smoothFields(2, latitudes: 16, longitudes: 32, seed: 2)
            let (mean, logVariance) = vae.encode(Variable(x))
            let d = configuration.downsampling
            XCTAssertEqual(mean.shape, [2, 16 / d, 32 / d, latent])
            XCTAssertEqual(logVariance.shape, mean.shape)
            XCTAssertEqual(vae.decode(mean).shape, x.shape)
            XCTAssertEqual(configuration.compressionRatio(latitudes: 16, longitudes: 32), ratio)
        }
        XCTAssertEqual(VAEConfiguration(channels: [8, 16, 16], latentChannels: 4).compressionRatio(latitudes: 18, longitudes: 30),
                       540 / Double(5 * 8 * 4), "a grid of 18 × 30 is padded to 20 × 32 for a ×4 VAE")
        XCTAssertThrowsError(try VAEConfiguration(channels: [8, 12], groups: 8).validate()) {
            XCTAssertTrue("\($0)".contains("multiple of 8 groups"), "\($0)")
        }
    }

    /// Every convolution wraps in longitude and the stride-2 convolutions sample even
    /// columns, so shifting the input by one latent cell (d grid columns) shifts the latents by one.
    func testLongitudeShiftGivesShiftedLatents() {
        let configuration = VAEConfiguration(channels: [8, 16, 16], latentChannels: 2, groups: 4)
        var random = RandomStream(seed: 3)
        let vae = VariationalAutoencoder(configuration: configuration, random: &random)
        let (nlat, nlon, d) = (16, 32, configuration.downsampling)
        let x = Tensor(gaussianShape: [1, nlat, nlon, 1], random: &random)
        let shifted = Tensor(uninitializedShape: x.shape)
        for i in 0..<nlat { for j in 0..<nlon { shifted[i * nlon + (j + d) % nlon] = x[i * nlon + j] } }
        let z = vae.encode(Variable(x)).mean.value, zs = vae.encode(Variable(shifted)).mean.value
        let (h, w, c) = (nlat / d, nlon / d, 2)
        var worst: Float = 0
        for i in 0..<h { for j in 0..<w { for k in 0..<c {
            worst = max(worst, abs(zs[(i * w + (j + 1) % w) * c + k] - z[(i * w + j) * c + k]))
        } } }
        XCTAssertLessThan(worst, 1e-4, "latents of the shifted field differ from shifted latents by \(worst)")
    }

    /// The shipped configuration's loss and every parameter gradient, with its stride-1
    /// convolutions on the direct channel-block kernel and on im2col + sgemm, in a
    /// data-parallel step of two parts on two workers as `train-vae` runs it: the two
    /// differ by rounding only (sums of up to 576 products per pixel and of 4096 pixels per
    /// weight, in other orders).
    func testDirectConvolutionsGiveTheGradientsOfIm2col() {
        let configuration = VAEConfiguration(channels: [16, 32, 64], latentChannels: 2)
        var random = RandomStream(seed: 7)
        let vae = VariationalAutoencoder(configuration: configuration, random: &random)
        let x = smoothFields(4, latitudes: 32, longitudes: 64, seed: 8)
        let weights = Tensor(shape: [32, 64], repeating: 1)
        func lossAndGradients(direct: Bool) -> (Float, [[Float]]) {
            DirectConvolution.channelBlocksEnabled = direct
            let threads = ComputeThreads.count
            ComputeThreads.configure(2)
            defer {
                DirectConvolution.channelBlocksEnabled = true
                ComputeThreads.configure(threads)
            }
            vae.zeroGradients()
            let losses = DataParallel.accumulateGradients(parameters: vae.parameters, parts: 2) { part in
                var noise = RandomStream(seed: 9).substream(UInt64(part))
                let (rows, share) = DataParallel.part(part, of: 2, x)
                return vae.loss(rows, areaWeights: weights, random: &noise).total * share
            }
            return (losses.reduce(0, +), vae.parameters.map { $0.gradient.values })
        }
        let (directLoss, direct) = lossAndGradients(direct: true)
        let (referenceLoss, reference) = lossAndGradients(direct: false)
        XCTAssertEqual(directLoss, referenceLoss, accuracy: 1e-5 * abs(referenceLoss))
        for (parameter, (a, b)) in zip(vae.parameters, zip(direct, reference)) {
            let difference = zip(a, b).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
            let norm = b.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            XCTAssertLessThan(difference, 1e-4 * max(norm, 1e-6), "gradient of \(parameter.name): norm \(norm)")
        }
    }

    func testTinyVAEOverfitsABatch() {
        let configuration = VAEConfiguration(channels: [8, 16], latentChannels: 4, groups: 4, klWeight: 1e-6)
        var random = RandomStream(seed: 4)
        let vae = VariationalAutoencoder(configuration: configuration, random: &random)
        let x = smoothFields(4, latitudes: 8, longitudes: 16, seed: 5)
        let weights = Tensor(shape: [8, 16], repeating: 1)
        let optimizer = AdamW(parameters: vae.parameters, learningRate: 3e-3, weightDecay: 0)
        var noise = RandomStream(seed: 6)
        let initial = vae.loss(x, areaWeights: weights, random: &noise).reconstruction
        var final = initial
        for _ in 0..<400 {
            vae.zeroGradients()
            let loss = vae.loss(x, areaWeights: weights, random: &noise)
            loss.total.backward()
            optimizer.update()
            final = loss.reconstruction
        }
        XCTAssertLessThan(final, initial / 100, "reconstruction MSE \(initial) → \(final)")
    }

    func testCheckpointRoundTripAndGridCheck() throws {
        let grid = Grid.regular(latitudeCount: 8, longitudeCount: 16)
        let months = (0..<24).map { $0 % 12 + 1 }
        var random = RandomStream(seed: 7)
        let member = (0..<(24 * grid.cellCount)).map { _ in Float(280 + random.gaussian()) }
        let normalization = try AnomalyNormalization.fit(members: [member], monthsOfYear: months, grid: grid, scaling: .perGridPoint)
        let vae = TrainedVAE(model: VariationalAutoencoder(configuration: VAEConfiguration(channels: [8, 16], latentChannels: 2, groups: 4),
                                                           random: &random),
                             normalization: normalization, provenance: ["seed": "7"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vae-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try vae.save(to: path)
        let loaded = try TrainedVAE.load(path)
        XCTAssertEqual(loaded.normalization, normalization)
        XCTAssertEqual(loaded.provenance, ["seed": "7"])
        XCTAssertEqual(loaded.configuration, vae.configuration)
        for (a, b) in zip(vae.model.parameters, loaded.model.parameters) { XCTAssertEqual(a.value.values, b.value.values, a.name) }
        XCTAssertNoThrow(try loaded.checkGrid(grid, dataPath: "same.nc"))
        XCTAssertThrowsError(try loaded.checkGrid(Grid.regular(latitudeCount: 16, longitudeCount: 32), dataPath: "other.nc")) {
            XCTAssertEqual("\($0)", "other.nc: grid 16x32 does not match the model's training grid 8x16 (coordinates must agree); regrid the data to the model's grid (e.g. cdo remapbil) or train a model on this grid")
        }
        try SafeTensors.write(["x": Tensor(shape: [1])], metadata: ["format": "something-else"], to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TrainedVAE.load(path)) { XCTAssertTrue("\($0)".contains("not an EnsembleGen VAE checkpoint"), "\($0)") }
    }

    /// With the global mean separated: the latents are the network's latents of the field
    /// less its area-weighted mean, then that mean (D + 1 values); a field shifted by a
    /// constant encodes to the same pattern latents and the mean plus the constant, and
    /// decodes to the shifted decoding (what makes fields warmer than any in training
    /// representable); the network's input has zero global mean; the treatment survives a
    /// save and load, a checkpoint without it loads as not separated, and an unknown one is refused.
    func testSeparatedGlobalMeanIsCarriedExactly() throws {
        let grid = Grid.regular(latitudeCount: 8, longitudeCount: 16), cells = grid.cellCount
        let months = (0..<24).map { $0 % 12 + 1 }
        var random = RandomStream(seed: 11)
        let member = (0..<(24 * cells)).map { _ in Float(280 + random.gaussian()) }
        let normalization = try AnomalyNormalization.fit(members: [member], monthsOfYear: months, grid: grid, scaling: .global)
        let model = VariationalAutoencoder(configuration: VAEConfiguration(channels: [8, 16], latentChannels: 2, groups: 4), random: &random)
        let vae = TrainedVAE(model: model, normalization: normalization, separatesGlobalMean: true)
        let plain = TrainedVAE(model: model, normalization: normalization)
        let d = plain.latentDimension
        XCTAssertEqual(vae.latentDimension, d + 1)
        let fields = Array(normalization.normalize(member, monthsOfYear: months)[0..<(3 * cells)])
        let weights = grid.areaWeights, total = weights.reduce(0, +)
        let means = (0..<3).map { n in (0..<cells).reduce(0.0) { $0 + weights[$1] * Double(fields[n * cells + $1]) } / total }
        let input = vae.networkInput(fields, count: 3)
        for n in 0..<3 {
            XCTAssertEqual((0..<cells).reduce(0.0) { $0 + weights[$1] * Double(input[n * cells + $1]) } / total, 0, accuracy: 1e-6)
        }
        let z = vae.encode(normalizedFields: fields, count: 3)
        let shift: Float = 3.5
        let shifted = vae.encode(normalizedFields: fields.map { $0 + shift }, count: 3)
        for n in 0..<3 {
            XCTAssertEqual(Double(z[n * (d + 1) + d]), means[n], accuracy: 1e-6)
            XCTAssertEqual(shifted[n * (d + 1) + d], z[n * (d + 1) + d] + shift, accuracy: 1e-5)
            for j in 0..<d { XCTAssertEqual(shifted[n * (d + 1) + j], z[n * (d + 1) + j], accuracy: 1e-4) }
        }
        XCTAssertEqual(Array(z[0..<d]), Array(plain.encode(normalizedFields: input, count: 3)[0..<d]))
        let decoded = vae.decode(latents: z, count: 3), decodedShifted = vae.decode(latents: shifted, count: 3)
        for i in 0..<(3 * cells) { XCTAssertEqual(decodedShifted[i], decoded[i] + shift, accuracy: 1e-3) }

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vae-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try vae.save(to: path)
        XCTAssertTrue(try TrainedVAE.load(path).separatesGlobalMean)
        try plain.save(to: path)
        XCTAssertFalse(try TrainedVAE.load(path).separatesGlobalMean)
        var contents = try vae.checkpointContents()
        contents.metadata["normalization.global_mean"] = "subtract-twice"
        try SafeTensors.write(contents.tensors, metadata: contents.metadata, to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TrainedVAE.load(path)) { XCTAssertTrue("\($0)".contains("unknown global-mean treatment"), "\($0)") }
    }
}
