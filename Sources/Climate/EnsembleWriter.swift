import Foundation
import NetCDF
import OutputFiles

/// Writes an ensemble as CF-1.8 NetCDF-4, member by member, following the
/// project's CF output contract:
///
/// `<var>(realization, time, lat, lon)` (or `(time, realization, lat, lon)`, see `Layout`) float32 in `variable.units` (K) with `standard_name`,
/// `long_name`, `cell_methods` (default `time: mean`), `_FillValue`/`missing_value` 1e20 (NaN
/// in memory is written as 1e20); deflate (level 0–9, default 1) + shuffle, chunks of one field
/// or of time series on tiles (`OutputStorage`).
/// Coordinates `realization` (int, `standard_name = realization`), `time` (double, units,
/// calendar, `bounds = time_bnds`: the input's, else calendar months or years), `lat`/`lon`
/// (double, `axis`, `standard_name`, units, bounds `lat_bnds`/`lon_bnds`), and the scalar
/// coordinates of `OutputAttributes` (e.g. `height`), named in the data variable's
/// `coordinates` in the realization-first layout (CDO 2.1 refuses the time-first file if they
/// are named, so there they are scalar variables beside the data). Member labels that are not just the realization numbers (CMIP variant
/// labels `r1i1p1f1`, whose `k` is the realization number) are kept in the attribute
/// `realization:member_labels` (space-separated): CDO 2.1 warns about a char auxiliary
/// coordinate over `realization` and fails on a char variable not named in `coordinates`.
///
/// The file is an `OutputFile`: the destination is checked, `<path>.partial` is created
/// exclusively (a concurrent run writing the same path is refused, never clobbered) and renamed
/// to `path` by `finish()`. If the writer is cancelled, fails, or is released without
/// `finish()`, the partial file is removed, so an interrupted run never leaves a file that
/// looks complete; write failures on a (nearly) full disk are reported as a full disk.
/// Memory use does not depend on the number of members.
public final class EnsembleWriter {
    /// The final path (exists only after `finish()`).
    public let path: String
    /// Where data are written until `finish()`.
    public let partialPath: String
    public let variable: VariableMetadata
    public let grid: Grid
    public let time: TimeAxis
    public let members: [String]
    /// Realization numbers written to the `realization` coordinate.
    public let realizations: [Int32]
    /// Dimension order of the data variable.
    public let layout: Layout

    /// Dimension order of the data variable in the file. The reader accepts both.
    public enum Layout: String, Sendable, CaseIterable {
        /// `(realization, time, lat, lon)`: the project's CF output contract. CDO (2.1) cannot
        /// read it: CDI requires time to be the first dimension and skips the variable.
        case realizationFirst = "realization-first"
        /// `(time, realization, lat, lon)`: readable by CDO, which shows the members as a
        /// generic vertical axis (`cdo splitlevel` splits members).
        case timeFirst = "time-first"
    }

    /// Computed fields (generated, reconstructed, emulated) must lie in this range, K, with no
    /// missing value: anything else means a broken model, and is refused instead of written.
    /// nil (the default) writes what it is given, NaN as missing.
    public var requiredRange: ClosedRange<Float>?

    /// `InputRequirements.nearSurfaceTemperature` for `requiredRange`.
    public static let plausibleTemperature = Float(InputRequirements.nearSurfaceTemperature.lowerBound)...Float(InputRequirements.nearSurfaceTemperature.upperBound)

    /// Value written for missing (NaN) data.
    public static let fillValue: Float = 1e20

    private let output: OutputFile
    private var file: NetCDFFile?
    private var dataVariable: Variable?
    private var written: [Bool]
    private var finished = false

    /// Creates `<path>.partial` and writes every coordinate and attribute.
    /// - Parameters:
    ///   - members: member labels; realization numbers are the labels when these are distinct
    ///     integers, the `k` of CMIP-style `r<k>i…` labels when distinct, otherwise 0, 1, 2 …
    ///   - storage: chunk shape and deflate level of the data variable.
    ///   - layout: dimension order in the file (`timeFirst` by default: see Docs/output-format.md).
    ///   - inputs: files the command reads, which `path` must not be.
    public init(path: String, variable: VariableMetadata, grid: Grid, time: TimeAxis, members: [String],
                attributes: OutputAttributes, storage: OutputStorage = OutputStorage(), layout: Layout = .timeFirst,
                inputs: [String] = []) throws {
        guard OutputStorage.deflateLevels.contains(storage.deflateLevel) else {
            throw CFError(file: path, variable: variable.name, "deflate level must be 0…9, got \(storage.deflateLevel)")
        }
        guard !members.isEmpty, time.count > 0 else {
            throw CFError(file: path, variable: variable.name, "nothing to write: \(members.count) members, \(time.count) time steps")
        }
        output = try OutputFile(path: path, inputs: inputs)
        // netcdf-c opens the partial itself (clobbering the empty file created for us).
        output.releaseDescriptor()
        self.path = path
        self.partialPath = output.partialPath
        self.variable = variable
        self.grid = grid
        self.time = time
        self.members = members
        self.realizations = EnsembleWriter.realizationNumbers(for: members)
        self.layout = layout
        self.written = [Bool](repeating: false, count: members.count * time.count)
        do {
            try define(attributes: attributes, storage: storage)
        } catch {
            throw abandon(error)
        }
    }

    deinit { if !finished { cancel() } }

    static func realizationNumbers(for labels: [String]) -> [Int32] {
        let direct = labels.compactMap { Int32($0) }
        if direct.count == labels.count, Set(direct).count == labels.count { return direct }
        let ripf = labels.compactMap { label -> Int32? in
            guard label.first == "r", let i = label.firstIndex(of: "i") else { return nil }
            return Int32(label[label.index(after: label.startIndex)..<i])
        }
        if ripf.count == labels.count, Set(ripf).count == labels.count { return ripf }
        return (0..<Int32(labels.count)).map { $0 }
    }

    private func define(attributes: OutputAttributes, storage: OutputStorage) throws {
        let f = try NetCDFFile.create(partialPath, format: .netCDF4, overwrite: true)
        file = f
        let r = try f.addDimension("realization", length: members.count)
        let t = try f.addDimension("time", length: time.count)
        let y = try f.addDimension("lat", length: grid.latitudeCount)
        let x = try f.addDimension("lon", length: grid.longitudeCount)
        let b = try f.addDimension("bnds", length: 2)

        let realization = try f.addVariable("realization", type: .int32, dimensions: [r])
        try realization.setAttribute("standard_name", "realization")
        try realization.setAttribute("long_name", "realization")
        try realization.setAttribute("units", "1")
        // Labels that are not just the realization numbers (e.g. r1i1p1f1) go into an attribute
        // rather than a char variable, which CDO would warn about.
        if members != realizations.map({ String($0) }) {
            try realization.setAttribute("member_labels", .text(members.joined(separator: " ")))
        }

        let timeVariable = try f.addVariable("time", type: .double, dimensions: [t])
        for (k, v) in [("standard_name", "time"), ("long_name", "time"), ("units", time.units.cfString),
                       ("calendar", time.calendar.cfName), ("axis", "T"), ("bounds", "time_bnds")] {
            try timeVariable.setAttribute(k, .text(v))
        }
        let timeBounds = try f.addVariable("time_bnds", type: .double, dimensions: [t, b])

        let lat = try f.addVariable("lat", type: .double, dimensions: [y])
        for (k, v) in [("standard_name", "latitude"), ("long_name", "latitude"), ("units", "degrees_north"),
                       ("axis", "Y"), ("bounds", "lat_bnds")] {
            try lat.setAttribute(k, .text(v))
        }
        let latBounds = try f.addVariable("lat_bnds", type: .double, dimensions: [y, b])
        let lon = try f.addVariable("lon", type: .double, dimensions: [x])
        for (k, v) in [("standard_name", "longitude"), ("long_name", "longitude"), ("units", "degrees_east"),
                       ("axis", "X"), ("bounds", "lon_bnds")] {
            try lon.setAttribute(k, .text(v))
        }
        let lonBounds = try f.addVariable("lon_bnds", type: .double, dimensions: [x, b])

        var scalars: [(Variable, Double)] = []
        for c in attributes.scalarCoordinates {
            let v = try f.addVariable(c.name, type: .double, dimensions: [])
            for a in c.attributes { try v.setAttribute(a.name, .text(a.value)) }
            scalars.append((v, c.value))
        }

        let data = try f.addVariable(variable.name, type: .float, dimensions: layout == .realizationFirst ? [r, t, y, x] : [t, r, y, x])
        if let s = variable.standardName { try data.setAttribute("standard_name", .text(s)) }
        if let l = variable.longName { try data.setAttribute("long_name", .text(l)) }
        try data.setAttribute("units", .text(variable.units))
        try data.setAttribute("cell_methods", .text(variable.cellMethods ?? "time: mean"))
        // CDO 2.1 cannot read a time-first file whose data variable names a vertical scalar
        // coordinate (it takes `realization` as the vertical axis): there the scalar variables
        // stand beside the data, with their axis attributes, unnamed.
        if layout == .realizationFirst, !attributes.scalarCoordinates.isEmpty {
            try data.setAttribute("coordinates", .text(attributes.scalarCoordinates.map(\.name).joined(separator: " ")))
        }
        if let measures = attributes.cellMeasures, !attributes.measureVariables.isEmpty {
            try data.setAttribute("cell_measures", .text(measures))
        }
        try data.setAttribute("_FillValue", .float([EnsembleWriter.fillValue]))
        try data.setAttribute("missing_value", .float([EnsembleWriter.fillValue]))
        let chunk = storage.chunks(times: time.count, latitudes: grid.latitudeCount, longitudes: grid.longitudeCount)
        try data.setChunking(layout == .realizationFirst ? [chunk.member, chunk.time, chunk.lat, chunk.lon]
                                                         : [chunk.time, chunk.member, chunk.lat, chunk.lon])
        if storage.deflateLevel > 0 { try data.setCompression(deflateLevel: storage.deflateLevel, shuffle: true) }
        dataVariable = data

        for (name, value) in attributes.all { try f.setAttribute(name, value) }

        // Coordinate values.
        try realization.write(realizations)
        for (v, value) in scalars { try v.write([value]) }
        try timeVariable.write(time.values)
        try timeBounds.write(time.cellBounds.flatMap { $0 })
        try lat.write(grid.latitudes)
        try latBounds.write(grid.latitudeBounds.flatMap { $0 })
        try lon.write(grid.longitudes)
        try lonBounds.write(grid.longitudeBounds.flatMap { $0 })
    }

    /// Writes all time steps of member `member`: `values` has shape (time, lat, lon), kelvin,
    /// NaN for missing.
    public func write(member: Int, values: [Float]) throws {
        try write(member: member, timeStart: 0, values: values)
    }

    /// Writes time steps `timeStart ..< timeStart + values.count / (lat × lon)` of `member`.
    public func write(member: Int, timeStart: Int, values: [Float]) throws {
        try values.withUnsafeBufferPointer { try write(member: member, timeStart: timeStart, values: $0) }
    }

    /// Writes a slab of one member from caller-owned memory (shape (steps, lat, lon)).
    public func write(member: Int, timeStart: Int, values: UnsafeBufferPointer<Float>) throws {
        guard let data = dataVariable, !finished else {
            throw CFError(file: path, variable: variable.name, "writer is finished or cancelled")
        }
        let cells = grid.cellCount
        guard values.count > 0, values.count % cells == 0 else {
            throw CFError(file: path, variable: variable.name, "\(values.count) values is not a whole number of \(grid.summary) fields")
        }
        let steps = values.count / cells
        guard member >= 0, member < members.count, timeStart >= 0, timeStart + steps <= time.count else {
            throw CFError(file: path, variable: variable.name,
                          "member \(member), time steps \(timeStart)..<\(timeStart + steps) outside \(members.count) members × \(time.count) steps")
        }
        if let range = requiredRange, let k = values.firstIndex(where: { !range.contains($0) }) {
            throw CFError(file: path, variable: variable.name, String(
                format: "the computed value %g K of member %@ at %@ is not a plausible near-surface temperature (%g–%g K): the model is broken (a diverged training or damaged weights); nothing was written",
                values[k], members[member], time.date(at: timeStart + k / cells).dateString, range.lowerBound, range.upperBound))
        }
        let (ny, nx) = (grid.latitudeCount, grid.longitudeCount)
        let (start, count) = layout == .realizationFirst
            ? ([member, timeStart, 0, 0], [1, steps, ny, nx]) : ([timeStart, member, 0, 0], [steps, 1, ny, nx])
        do {
            if values.contains(where: { $0.isNaN }) {
                // Missing values are stored as the fill value (a copy only when there are any).
                try data.write(values.map { $0.isNaN ? EnsembleWriter.fillValue : $0 }, start: start, count: count)
            } else {
                try data.write(values, start: start, count: count)
            }
        } catch {
            throw abandon(error)
        }
        for k in timeStart..<(timeStart + steps) { written[member * time.count + k] = true }
    }

    /// Checks that every member and time step was written, closes the file and renames it to
    /// `path` (replacing an existing regular file). On failure the partial file is removed.
    public func finish() throws {
        guard !finished, let f = file else { throw CFError(file: path, "writer is finished or cancelled") }
        if let k = written.firstIndex(of: false) {
            let (m, t) = (k / time.count, k % time.count)
            cancel()
            throw CFError(file: path, variable: variable.name, "member \(m), time step \(t) was never written; output discarded")
        }
        do {
            try f.close()
        } catch {
            throw abandon(error)
        }
        file = nil
        dataVariable = nil
        finished = true
        try output.commit()
    }

    /// Cancels after a failed write and returns the error to report: a full disk as such, and
    /// a netcdf-c error naming the output rather than its partial file.
    private func abandon(_ error: Error) -> Error {
        let reported = output.failure(error)
        cancel()
        if let e = reported as? NetCDFError, e.path == partialPath {
            return NetCDFError(path: path, variable: e.variable, message: e.message, status: e.status)
        }
        return reported
    }

    /// Abandons the output: closes and deletes the partial file (only if it is still the one
    /// this writer created). Harmless after `finish()`.
    public func cancel() {
        guard !finished else { return }
        try? file?.close()
        file = nil
        dataVariable = nil
        output.abandon()
        finished = true
    }

    /// Writes a whole in-memory ensemble to `path` (via `<path>.partial`).
    public static func write(_ ensemble: Ensemble, to path: String, attributes: OutputAttributes,
                             storage: OutputStorage = OutputStorage(), layout: Layout = .timeFirst, inputs: [String] = []) throws {
        let writer = try EnsembleWriter(path: path, variable: ensemble.variable, grid: ensemble.grid, time: ensemble.time,
                                        members: ensemble.members, attributes: attributes, storage: storage, layout: layout,
                                        inputs: inputs)
        for m in 0..<ensemble.memberCount {
            try ensemble.data.withUnsafeBufferPointer { all in
                let slice = UnsafeBufferPointer(rebasing: all[(m * ensemble.valuesPerMember)..<((m + 1) * ensemble.valuesPerMember)])
                try writer.write(member: m, timeStart: 0, values: slice)
            }
        }
        try writer.finish()
    }
}
