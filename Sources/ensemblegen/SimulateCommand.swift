import ArgumentParser
import Climate
import EnsembleGen
import Foundation

/// `ensemblegen simulate`: the synthetic large ensemble (ground truth for tests and evaluation).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a synthetic initial-condition ensemble of monthly near-surface temperature.",
        discussion: """
            Members share a forced response (energy-balance model driven by historical CO2, aerosol, \
            solar and volcanic forcing) and differ in their internal variability (ENSO recharge \
            oscillator, Atlantic mode, correlated weather noise). Member k depends only on (seed, k), \
            so batches made with --first-member are identical to one large run. See Docs/simulator.md.

            Example: ensemblegen simulate --members 40 --start 1850 --end 2005 --grid 32x64 --seed 1 --output ens.nc
            """)

    @Option(name: .long, help: "Number of members to write.")
    var members: Int = 10

    @Option(name: .long, help: "Index of the first member (for producing an ensemble in batches).")
    var firstMember: Int = 0

    @Option(name: .long, help: "First year (January).")
    var start: Int = 1850

    @Option(name: .long, help: "Last year (December).")
    var end: Int = 2005

    @Option(name: .long, help: "Global regular grid, latitudes x longitudes (e.g. 32x64, 96x192).")
    var grid: String = "32x64"

    @Option(name: .long, help: "Random seed of the ensemble.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "CF calendar of the time axis (standard, noleap, 360_day, ...).")
    var calendar: String = "standard"

    @Option(name: [.short, .long], help: "Output NetCDF file.")
    var output: String

    @Option(name: .long, help: "Also write the forcing series and global forced response to this NetCDF file.")
    var forcingOutput: String?

    @Option(name: .long, help: "zlib deflate level of the output, 1-4.")
    var deflateLevel: Int = 1

    @Option(name: .long, help: "Dimension order: time-first (default; every CF tool including CDO) or realization-first.")
    var layout: String = OutputLayout.timeFirst.rawValue

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        try OptionCheck.requireMembers(members, first: firstMember)
        guard start <= end else { throw ValidationError("--start \(start) is after --end \(end)") }
        try OptionCheck.require(start, in: 1...9999, "--start")
        try OptionCheck.require(end, in: 1...9999, "--end")
        do { _ = try SimulatePipeline.parseGrid(grid) } catch { throw ValidationError("\(error)") }
        try OptionCheck.require(deflateLevel, in: 1...4, "--deflate-level")
        try OptionCheck.requirePath(output, "--output")
        try OptionCheck.requirePath(forcingOutput, "--forcing-output")
    }

    func run() throws {
        try reportingErrors {
            guard let layout = OutputLayout(rawValue: layout) else {
                throw ValidationError("--layout must be time-first or realization-first, not '\(layout)'")
            }
            guard let calendarKind = CalendarKind(cfName: calendar) else {
                throw ValidationError("--calendar '\(calendar)' is not a CF calendar (standard, proleptic_gregorian, julian, noleap, all_leap, 360_day)")
            }
            let size = try SimulatePipeline.parseGrid(grid)
            let options = SimulatePipeline.Options(
                memberCount: members, firstMember: firstMember, startYear: start, endYear: end,
                latitudeCount: size.latitudes, longitudeCount: size.longitudes, seed: seed, calendar: calendarKind,
                output: output, forcingOutput: forcingOutput, deflateLevel: deflateLevel, layout: layout,
                commandLine: CommandLine.arguments)
            let bar = ProgressBar("simulate", total: members, unit: "members", quiet: quiet)
            let result = try SimulatePipeline.run(options) { done, _ in bar.update(done) }
            bar.finish()
            print(result.text)
        }
    }
}
