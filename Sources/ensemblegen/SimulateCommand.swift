import ArgumentParser
import Climate
import EnsembleGen
import Foundation
import Simulator

/// `ensemblegen simulate`: the synthetic large ensemble (ground truth for tests and evaluation).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a synthetic initial-condition ensemble of monthly near-surface temperature.",
        discussion: """
            Members share a forced response (energy-balance model driven by historical CO2, aerosol, \
            solar and volcanic forcing, or with --scenario an SSP pathway from 2015) and differ in their \
            internal variability (ENSO recharge oscillator, Atlantic mode, correlated weather noise). Member k depends only on (seed, k), \
            so batches made with --first-member are identical to one large run. See Docs/simulator.md.

            Scenarios: historical (default; after 2020 CO2 +2.4 ppm/yr, other agents held), and \
            ssp126, ssp245, ssp585: historical to 2014, then the SSP's effective radiative forcing \
            (IPCC AR6 WG1 Annex III) and CO2 concentration (Meinshausen et al. 2020) to 2100; no \
            volcanic eruptions after 2014, solar cycle continued. An SSP run ends in 2100 at the latest.

            Example: ensemblegen simulate --members 40 --start 1850 --end 2005 --grid 32x64 --seed 1 --output ens.nc
            Example: ensemblegen simulate --members 10 --scenario ssp585 --end 2100 --output ssp585.nc
            """)

    @OptionGroup var count: MemberCountOptions

    @Option(name: .long, help: ArgumentHelp("First year (from January).", valueName: "year"))
    var start: Int = 1850

    @Option(name: .long, help: ArgumentHelp("Last year (to December).", valueName: "year"))
    var end: Int = 2005

    @Option(name: .long, help: ArgumentHelp("Global grid, latitudes x longitudes, up to 4096x8192.", valueName: "grid"))
    var grid: String = "32x64"

    @Option(name: .long, help: ArgumentHelp("Latitudes of the grid: cell-centred (half a cell from the poles), pole-points (first and last at ±90°, as 2.5° CMIP grids of 73 latitudes), or gaussian (a spectral model's, as MPI-ESM T63 at 96x192).", valueName: "spacing"))
    var latitudes: LatitudeSpacing = .cellCentred

    @Option(name: .long, help: ArgumentHelp("Forcing pathway: historical, or historical to 2014 then an SSP (to 2100).",
                                            valueName: "name"))
    var scenario: ForcingScenario = .historical

    @Option(name: .long, help: ArgumentHelp("Random seed of the ensemble.", valueName: "n"))
    var seed: UInt64 = 1

    @Option(name: .long, help: "CF calendar of the time axis; gregorian, 365_day and 366_day are aliases.")
    var calendar: CalendarKind = .standard

    @Option(name: [.short, .long], help: ArgumentHelp("Output NetCDF file.", valueName: "file"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("Also write the forcings and forced response here.", valueName: "file"))
    var forcingOutput: String?

    @OptionGroup var storage: OutputStorageOptions
    @OptionGroup var dimensions: LayoutOption
    @OptionGroup var progress: QuietOption

    func validate() throws {
        guard start <= end else { throw ValidationError("--start \(start) is after --end \(end)") }
        try OptionCheck.require(start, in: 1...9999, "--start")
        try OptionCheck.require(end, in: 1...9999, "--end")
        if let last = scenario.lastYear, end > last {
            throw ValidationError("--end \(end): scenario \(scenario.rawValue) (\(scenario.displayName)) is defined to \(last)")
        }
        do { _ = try SimulatePipeline.parseGrid(grid) } catch { throw ValidationError("--grid: \(error)") }
        try OptionCheck.requirePath(output, "--output")
        try OptionCheck.requirePath(forcingOutput, "--forcing-output")
    }

    func run() throws {
        try reportingErrors {
            let size = try SimulatePipeline.parseGrid(grid)
            let options = SimulatePipeline.Options(
                memberCount: count.members, firstMember: count.firstMember, startYear: start, endYear: end,
                latitudeCount: size.latitudes, longitudeCount: size.longitudes, latitudeSpacing: latitudes, seed: seed, calendar: calendar,
                output: output, forcingOutput: forcingOutput, storage: storage.storage, layout: dimensions.layout,
                commandLine: CommandLine.arguments, scenario: scenario)
            let bar = ProgressBar("simulate", total: count.members, unit: "members", quiet: progress.quiet)
            let result = try SimulatePipeline.run(options) { done, _ in bar.update(done) }
            bar.finish()
            print(result.text)
        }
    }
}
