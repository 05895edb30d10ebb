import Climate
import RandomStreams
import XCTest
@testable import Models

/// The VAE's padding of any global grid to its downsampling multiple, checked against the
/// geometry it should follow rather than against its own index arithmetic.
final class GridPaddingTests: XCTestCase {
    /// The grids CMIP users have: 2.5° with pole points, UKESM/HadGEM N96 (145 × 192 with
    /// pole points), IPSL's 143 × 144, 4° cell-centred, and MPI-ESM T63 Gaussian.
    static func cmipGrids() throws -> [(name: String, grid: Grid)] {
        [("73x144 pole points", try Grid.withPolePoints(latitudeCount: 73, longitudeCount: 144)),
         ("145x192 pole points", try Grid.withPolePoints(latitudeCount: 145, longitudeCount: 192)),
         ("143x144 pole points", try Grid.withPolePoints(latitudeCount: 143, longitudeCount: 144)),
         ("45x90 cell-centred", Grid.regular(latitudeCount: 45, longitudeCount: 90)),
         ("96x192 Gaussian", try Grid.gaussian(latitudeCount: 96, longitudeCount: 192)),
         ("18x30 cell-centred", Grid.regular(latitudeCount: 18, longitudeCount: 30))]
    }

    /// Padded sizes are the next multiples; cropping the padded field gives the field back;
    /// every added row continues the latitudes beyond the pole (its source lies at 180° − φ at
    /// the longitude half way round) and every added column continues the circle.
    func testPaddingFollowsTheSphere() throws {
        for (name, grid) in try Self.cmipGrids() {
            let p = GridPadding(grid: grid, multiple: 4)
            let (nlat, nlon) = (grid.latitudeCount, grid.longitudeCount)
            XCTAssertEqual(p.paddedLatitudes, (nlat + 3) / 4 * 4, name)
            XCTAssertEqual(p.paddedLongitudes, (nlon + 3) / 4 * 4, name)
            XCTAssertEqual(p.isIdentity, nlat % 4 == 0 && nlon % 4 == 0, name)

            let cells = (0..<(2 * grid.cellCount)).map { $0 }
            let padded = p.pad(cells, count: 2)
            XCTAssertEqual(padded.count, 2 * p.paddedLatitudes * p.paddedLongitudes, name)
            XCTAssertEqual(p.crop(padded, count: 2), cells, name)

            // Geometry: the latitude a padded row stands for, extending the spacing of the edge rows.
            let lat = grid.latitudes, lon = grid.longitudes
            let southStep = lat[1] - lat[0], northStep = lat[nlat - 1] - lat[nlat - 2]
            for row in 0..<p.paddedLatitudes {
                let j = row - p.southRows
                for column in 0..<p.paddedLongitudes {
                    let source = padded[row * p.paddedLongitudes + column]
                    let (sj, si) = (source / nlon, source % nlon)
                    if (0..<nlat).contains(j) {
                        XCTAssertEqual(sj, j, name)
                        XCTAssertEqual(si, column % nlon, "\(name): extra columns continue the circle")
                        continue
                    }
                    let wanted = j < 0 ? lat[0] + Double(j) * southStep : lat[nlat - 1] + Double(j - nlat + 1) * northStep
                    let mirrored = j < 0 ? -180 - lat[sj] : 180 - lat[sj]
                    XCTAssertEqual(mirrored, wanted, accuracy: 0.05 * abs(southStep), "\(name): row \(row) crosses the pole")
                    let opposite = (lon[column % nlon] + 180).truncatingRemainder(dividingBy: 360)
                    XCTAssertEqual(lon[si], opposite, accuracy: 1e-9, "\(name): half way round across the pole")
                }
            }
            let weights = p.maskedWeights(grid.areaWeights)
            XCTAssertEqual(weights.reduce(0, +), 1, accuracy: 1e-12, name)
            XCTAssertEqual(p.crop(weights, count: 1), grid.areaWeights, name)
        }
    }

    /// A VAE on each grid encodes to ⌈lat/4⌉ × ⌈lon/4⌉ × C latents (+ the global mean) and
    /// decodes back to the grid's own size; a field constant over the globe is carried
    /// entirely by the separated mean, exactly.
    func testVAEEncodesAndDecodesEveryGrid() throws {
        for (name, grid) in try Self.cmipGrids() {
            var random = RandomStream(seed: 4)
            let configuration = VAEConfiguration(channels: [4, 4, 4], latentChannels: 2, groups: 2)
            let normalization = try AnomalyNormalization(grid: grid, scaling: .global,
                                                         climatology: [Float](repeating: 280, count: 12 * grid.cellCount),
                                                         scale: [Float](repeating: 1, count: grid.cellCount))
            let vae = TrainedVAE(model: VariationalAutoencoder(configuration: configuration, random: &random),
                                 normalization: normalization, separatesGlobalMean: true)
            let rows = (grid.latitudeCount + 3) / 4, columns = (grid.longitudeCount + 3) / 4
            XCTAssertEqual(vae.latentShape, [rows, columns, 2], name)
            XCTAssertEqual(vae.latentDimension, rows * columns * 2 + 1, name)
            let fields = (0..<(2 * grid.cellCount)).map { Float(sin(Double($0) * 0.01)) }
            let z = vae.encode(normalizedFields: fields, count: 2)
            XCTAssertEqual(z.count, 2 * vae.latentDimension, name)
            let decoded = vae.decode(latents: z, count: 2)
            XCTAssertEqual(decoded.count, fields.count, name)
            XCTAssertTrue(decoded.allSatisfy(\.isFinite), name)
            XCTAssertEqual(vae.networkInput(fields, count: 2).count, 2 * vae.padding.paddedLatitudes * vae.padding.paddedLongitudes, name)
            let weights = vae.trainingWeights
            XCTAssertEqual(weights.shape, [vae.padding.paddedLatitudes, vae.padding.paddedLongitudes], name)
            XCTAssertEqual(weights.values.reduce(0, +), Float(grid.cellCount), accuracy: 1e-3 * Float(grid.cellCount), name)
        }
    }
}
