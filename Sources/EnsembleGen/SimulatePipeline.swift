import Climate
import Foundation
import NetCDF
import OutputFiles
import Simulator

/// `ensemblegen simulate`: writes members `firstMember ..< firstMember + memberCount` of the
/// synthetic large ensemble as CF NetCDF, one member at a time (memory: one member,
/// whatever the member count). Member k depends only on (seed, k).
public enum SimulatePipeline {
    public struct Options: Sendable {
        public var memberCount: Int
        public var firstMember: Int
        public var startYear: Int
        public var endYear: Int
        /// Grid size (latitudes, longitudes) of a global regular grid.
        public var latitudeCount: Int
        public var longitudeCount: Int
        /// Where the grid's latitudes lie (cell-centred, at the poles, Gaussian).
        public var latitudeSpacing: LatitudeSpacing
        public var seed: UInt64
        public var calendar: CalendarKind
        public var output: String
        /// Optional NetCDF file for the forcing series (W m-2 per agent) and the global-mean
        /// forced response (K).
        public var forcingOutput: String?
        /// Chunk shape and deflate level of the output's data variable.
        public var storage: OutputStorage
        public var layout: OutputLayout
        public var commandLine: [String]
        /// Forcing pathway (`historical`, or historical to 2014 then an SSP ending in 2100).
        public var scenario: ForcingScenario

        public init(memberCount: Int, firstMember: Int = 0, startYear: Int = 1850, endYear: Int = 2005,
                    latitudeCount: Int = 32, longitudeCount: Int = 64, latitudeSpacing: LatitudeSpacing = .cellCentred,
                    seed: UInt64 = 1,
                    calendar: CalendarKind = .standard, output: String, forcingOutput: String? = nil,
                    storage: OutputStorage = OutputStorage(), layout: OutputLayout = .timeFirst,
                    commandLine: [String] = CommandLine.arguments, scenario: ForcingScenario = .historical) {
            self.memberCount = memberCount; self.firstMember = firstMember
            self.startYear = startYear; self.endYear = endYear
            self.latitudeCount = latitudeCount; self.longitudeCount = longitudeCount; self.latitudeSpacing = latitudeSpacing
            self.seed = seed; self.calendar = calendar; self.output = output
            self.forcingOutput = forcingOutput; self.storage = storage
            self.layout = layout; self.commandLine = commandLine; self.scenario = scenario
        }
    }

    public struct Result: Sendable {
        public var output: String
        public var members: ClosedRange<Int>
        public var months: Int
        public var grid: Grid
        public var seconds: Double
        public var text: String {
            "wrote \(output): tas(realization=\(members.count) [\(members.lowerBound)…\(members.upperBound)], time=\(months), "
                + "lat=\(grid.latitudeCount), lon=\(grid.longitudeCount)) in \(String(format: "%.1f", seconds)) s"
        }
    }

    /// Parses a grid such as `32x64` (latitudes × longitudes).
    public static func parseGrid(_ text: String) throws -> (latitudes: Int, longitudes: Int) {
        let parts = text.lowercased().split(whereSeparator: { $0 == "x" || $0 == "×" }).map { Int($0) }
        guard parts.count == 2, let nlat = parts[0], let nlon = parts[1], (2...4096).contains(nlat), (4...8192).contains(nlon) else {
            throw EnsembleGenError("'\(text)' is not a grid size like 32x64 (latitudes x longitudes, from 2x4 to 4096x8192)")
        }
        return (nlat, nlon)
    }

    public static func run(_ o: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        guard o.memberCount >= 1, o.firstMember >= 0 else {
            throw EnsembleGenError("members \(o.firstMember)…\(o.firstMember + o.memberCount - 1): at least one member, numbered from 0")
        }
        try OutputFile.checkDestination(o.output)
        if let forcing = o.forcingOutput { try OutputFile.checkDestination(forcing, inputs: [o.output]) }
        let started = Date()
        let grid: Grid
        do { grid = try o.latitudeSpacing.grid(latitudes: o.latitudeCount, longitudes: o.longitudeCount) } catch {
            throw EnsembleGenError("--grid \(o.latitudeCount)x\(o.longitudeCount) with \(o.latitudeSpacing.rawValue) latitudes: \(error)")
        }
        let simulator = try EnsembleSimulator(configuration: SimulatorConfiguration(
            grid: grid, startYear: o.startYear, endYear: o.endYear, seed: o.seed, calendar: o.calendar,
            scenario: o.scenario))
        // A member is simulated whole, in about three buffers of its size.
        let bytes = Double(simulator.valuesPerMember) * 4 * 3
        guard bytes <= MemoryBudget.bytes else {
            throw EnsembleGenError(String(format: "one member of %d–%d on a %dx%d grid needs %.1f GB of memory; this machine has %.1f GB: simulate fewer years or a coarser grid",
                                          o.startYear, o.endYear, o.latitudeCount, o.longitudeCount, bytes / 1e9, MemoryBudget.physical / 1e9))
        }
        let members = o.firstMember...(o.firstMember + o.memberCount - 1)
        var attributes = OutputAttributes(
            title: "Synthetic large ensemble of near-surface air temperature (EnsembleGen simulator)",
            institution: "EnsembleGen",
            source: "EnsembleGen \(EnsembleGenVersion.string), \(simulator.sourceDescription)",
            history: EnsembleGenVersion.historyLine(commandLine: o.commandLine, files: [o.output] + [o.forcingOutput].compactMap { $0 }),
            references: references(o.scenario),
            comment: "Monthly means. Member k depends only on (seed, k). " + o.scenario.forcingDescription,
            extra: [("seed", .int64([Int64(bitPattern: o.seed)])), ("first_member", .int32([Int32(o.firstMember)])),
                    ("experiment_id", .text(o.scenario.experimentID))] + EnsembleGenVersion.creationAttributes())
        attributes.scalarCoordinates = ScalarCoordinate.standard(for: .nearSurfaceAirTemperature)
        if let f = o.forcingOutput { try writeForcing(simulator, to: f, commandLine: o.commandLine) }
        let writer = try EnsembleWriter(path: o.output, variable: .nearSurfaceAirTemperature, grid: grid,
                                        time: simulator.timeAxis, members: members.map(String.init),
                                        attributes: attributes, storage: o.storage, layout: o.layout)
        var buffer = [Float](repeating: 0, count: simulator.valuesPerMember)
        for (i, k) in members.enumerated() {
            buffer.withUnsafeMutableBufferPointer { simulator.member(k, into: $0) }
            try buffer.withUnsafeBufferPointer { try writer.write(member: i, timeStart: 0, values: $0) }
            progress?(i + 1, members.count)
        }
        try writer.finish()
        return Result(output: o.output, members: members, months: simulator.monthCount, grid: grid,
                      seconds: Date().timeIntervalSince(started))
    }

    /// The CF `references`: the simulator's, plus the sources of an SSP pathway.
    static func references(_ scenario: ForcingScenario) -> String {
        scenario == .historical ? EnsembleSimulator.references
            : EnsembleSimulator.references + "; IPCC AR6 WG1 Annex III (Dentener, Hall, Smith eds. 2021); Meinshausen et al. 2020 GMD"
    }

    /// Forcing series and forced response as a CF time-series file (an `OutputFile`).
    static func writeForcing(_ simulator: EnsembleSimulator, to path: String, commandLine: [String]) throws {
        let output = try OutputFile(path: path)
        // netcdf-c opens the partial itself (clobbering the empty file created for us).
        output.releaseDescriptor()
        let time = simulator.timeAxis
        let f: NetCDFFile
        do {
            f = try NetCDFFile.create(output.partialPath, format: .netCDF4, overwrite: true)
        } catch {
            throw output.failure(error)
        }
        do {
            let timeDim = try f.addDimension("time", length: time.count)
            let bndsDim = try f.addDimension("bnds", length: 2)
            let t = try f.addVariable("time", type: .double, dimensions: [timeDim])
            try t.setAttribute("units", .text(time.units.cfString))
            try t.setAttribute("calendar", .text(time.calendar.cfName))
            try t.setAttribute("standard_name", .text("time"))
            try t.setAttribute("axis", .text("T"))
            try t.setAttribute("bounds", .text("time_bnds"))
            let tb = try f.addVariable("time_bnds", type: .double, dimensions: [timeDim, bndsDim])
            var series: [(Variable, [Double])] = []
            for (name, values) in simulator.forcing.agents {
                let v = try f.addVariable("erf_" + name, type: .double, dimensions: [timeDim])
                try v.setAttribute("long_name", .text("effective radiative forcing: \(name.replacingOccurrences(of: "_", with: " "))"))
                try v.setAttribute("units", .text("W m-2"))
                try v.setAttribute("cell_methods", .text("time: mean"))
                series.append((v, values))
            }
            let co2 = try f.addVariable("co2", type: .double, dimensions: [timeDim])
            try co2.setAttribute("long_name", .text("CO2 concentration"))
            try co2.setAttribute("units", .text("1e-6"))
            series.append((co2, simulator.forcing.co2Concentration))
            let response = try f.addVariable("tas_forced", type: .double, dimensions: [timeDim])
            try response.setAttribute("long_name", .text("global-mean forced surface temperature response (energy-balance model)"))
            try response.setAttribute("units", .text("K"))
            series.append((response, simulator.forcedResponse.surface))
            try f.setAttribute("Conventions", .text("CF-1.8"))
            try f.setAttribute("title", .text("Forcing of the EnsembleGen synthetic ensemble"))
            try f.setAttribute("source", .text("EnsembleGen \(EnsembleGenVersion.string)"))
            try f.setAttribute("history", .text(EnsembleGenVersion.historyLine(commandLine: commandLine, files: [path])))
            try f.setAttribute("experiment_id", .text(simulator.configuration.scenario.experimentID))
            try f.setAttribute("comment", .text(simulator.configuration.scenario.forcingDescription))
            try t.write(time.values)
            try tb.write((time.bounds ?? time.values.map { [$0, $0] }).flatMap { $0 })
            for (v, values) in series { try v.write(values) }
            try f.close()
        } catch {
            let reported = output.failure(error)
            try? f.close()
            output.abandon()
            throw reported
        }
        try output.commit()
    }
}
