import Foundation

/// The memory a command may plan to use: 80 % of the machine's, so a file that declares
/// more data than fits is refused before anything is allocated.
public enum MemoryBudget {
    /// The machine's memory, bytes.
    public static var physical: Double { Double(ProcessInfo.processInfo.physicalMemory) }
    /// What a command may plan to use, bytes.
    public static var bytes: Double { physical * 0.8 }
}

/// What a command needs of the data it reads, checked by `EnsembleReader` as the files are
/// opened (time axis) and as values are read (missing and implausible values), so a bad file
/// is refused with its name and the first offending place instead of giving a wrong answer.
///
/// Whatever the requirements, time must be strictly increasing and every value that is not
/// missing must lie in `plausibleRange` (in kelvin, after unit conversion): a value outside
/// it is a wrong unit, an undeclared fill value or a corrupt file, never weather.
public struct InputRequirements: Sendable, Equatable {
    /// Sampling frequencies the command can use.
    public var frequencies: Set<TimeFrequency>
    /// Refuse missing values (NaN, `_FillValue`, `missing_value`, outside `valid_*`).
    public var completeFields: Bool
    /// Values outside this range (K) are refused.
    public var plausibleRange: ClosedRange<Double>
    /// Refuse grids that do not go round the globe in longitude: the VAE pads periodically
    /// in longitude, which would join the two edges of a regional box.
    public var globalGrid: Bool

    public init(frequencies: Set<TimeFrequency>, completeFields: Bool,
                plausibleRange: ClosedRange<Double> = InputRequirements.nearSurfaceTemperature, globalGrid: Bool = false) {
        self.frequencies = frequencies
        self.completeFields = completeFields
        self.plausibleRange = plausibleRange
        self.globalGrid = globalGrid
    }

    /// Near-surface temperature on Earth, K: well beyond the recorded extremes (184 K, 330 K)
    /// and every model's climate, yet far from 0 K, °C read as K or K read as °C.
    public static let nearSurfaceTemperature: ClosedRange<Double> = 150...350

    /// Training and applying the models: complete monthly or annual fields.
    public static let models = InputRequirements(frequencies: [.monthly, .annual], completeFields: true, globalGrid: true)
    /// The diagnostics and the statistical baseline: complete monthly fields.
    public static let monthlyAnalysis = InputRequirements(frequencies: [.monthly], completeFields: true)
    /// Describing and copying files (`info`, `merge`): any frequency, missing values kept.
    public static let inspection = InputRequirements(frequencies: Set(TimeFrequency.allCases), completeFields: false)

    /// Checks what a file declares (grid, time axis, members) before any value is read.
    func check(_ layout: CFFieldLayout) throws {
        guard layout.time.count > 0, !layout.members.isEmpty else {
            throw CFError(file: layout.path, variable: layout.variable.name,
                          "no data: \(layout.time.count) time steps, \(layout.members.count) members")
        }
        if globalGrid, !layout.grid.isGlobal {
            throw CFError(file: layout.path, variable: layout.variable.name,
                          "the grid covers \(layout.grid.extentDescription), not the whole globe; the models need a global grid (they wrap around in longitude and across the poles): train and generate on global fields, then cut the region from the output (e.g. cdo sellonlatbox)")
        }
        try check(layout.time, file: layout.path)
    }

    /// Checks `time` of `file` against `frequencies`; the error says what to do.
    func check(_ time: TimeAxis, file: String) throws {
        let found = time.frequency
        guard !frequencies.contains(found) else { return }
        let needed = frequencies.contains(.annual) ? "monthly or annual" : "monthly"
        switch found {
        case .daily, .subdaily:
            throw CFError(file: file, variable: "time",
                          "\(found.rawValue) data (\(time.count) steps); this command needs \(needed) means: compute them first, e.g. cdo monmean \(file) monthly.nc")
        case .annual:
            throw CFError(file: file, variable: "time", "annual data; this command needs monthly data")
        case .monthly:
            throw CFError(file: file, variable: "time", "monthly data; this command needs annual data")
        case .irregular:
            guard time.count > 1 else {
                throw CFError(file: file, variable: "time", "a single time step without monthly or annual bounds; this command needs a \(needed) series")
            }
            let k = time.firstStepBreaking(.monthly) ?? 1
            throw CFError(file: file, variable: "time",
                          "time steps are not \(needed): step \(k) (\(time.date(at: k).dateString)) follows step \(k - 1) (\(time.date(at: k - 1).dateString)); this command needs a gap-free \(needed) series")
        }
    }
}
