/// How the data variable of an ensemble file is stored: its chunk shape and compression.
///
/// NetCDF-4 reads and decompresses whole chunks, so the chunk shape decides which reads are
/// cheap: `fields` chunks hold one member's field at one time step (a month's map, and CDO,
/// which reads field by field, are cheap; one cell's series reads every chunk of the file),
/// `timeSeries` chunks hold up to 2048 time steps of one member on a tile of 8 × 16 cells
/// (a cell's series is cheap; a month's map reads the whole file). Docs/output-format.md
/// gives the measured times (Scripts/bench/read-layout.sh).
public struct OutputStorage: Sendable, Equatable {
    /// Chunk shape of the data variable.
    public enum Chunking: String, CaseIterable, Sendable {
        /// One field per chunk: (1, 1, lat, lon).
        case fields
        /// Time series on tiles: (≤ 2048 steps, 1 member, 8 latitudes, 16 longitudes).
        case timeSeries = "time-series"
    }

    public var chunking: Chunking
    /// zlib level, 0 (no compression) to 9; the byte shuffle is on whenever compressing.
    public var deflateLevel: Int

    public init(chunking: Chunking = .fields, deflateLevel: Int = 1) {
        self.chunking = chunking
        self.deflateLevel = deflateLevel
    }

    /// Deflate levels netCDF accepts.
    public static let deflateLevels = 0...9

    /// Most time steps in a time-series chunk, and the tile of cells it covers: at most
    /// 2048 × 128 float32 values (1 MiB) per chunk.
    static let seriesSteps = 2048, tile = (latitudes: 8, longitudes: 16)

    /// Chunk lengths in the order (time, member, lat, lon).
    public func chunks(times: Int, latitudes: Int, longitudes: Int) -> (time: Int, member: Int, lat: Int, lon: Int) {
        switch chunking {
        case .fields: return (1, 1, latitudes, longitudes)
        case .timeSeries:
            return (min(times, Self.seriesSteps), 1, min(latitudes, Self.tile.latitudes), min(longitudes, Self.tile.longitudes))
        }
    }
}
