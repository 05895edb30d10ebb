import Climate
import Dispatch
import Foundation
import RandomStreams

/// A calendar month of the simulation.
public struct YearMonth: Sendable, Equatable, Hashable {
    public let year: Int
    /// 1...12
    public let month: Int
}

/// The synthetic large ensemble: monthly-mean near-surface air temperature (K) on a
/// lat–lon grid, `climatology + forced response + internal variability`.
///
/// Everything shared by the members (climatology, forcing, forced response, spatial
/// patterns, smoothing kernels) is computed once in `init`. Each member is then computed
/// on demand from its own random stream `RandomStream(seed: seed).substream(k)`, so member
/// `k` is bit-identical whatever other members are computed, in what order, and with how
/// many threads. Memory per call is one member, `monthCount × cellCount` floats.
public final class EnsembleSimulator: Sendable {
    public let configuration: SimulatorConfiguration
    /// Simulated months, January of `startYear` to December of `endYear`.
    public let months: [YearMonth]
    /// CF time axis of the members: mid-month values, month bounds, units
    /// "days since <startYear>-01-01", `configuration.calendar`.
    public let timeAxis: TimeAxis
    /// Monthly-mean ERF per agent, W m⁻², over the simulated months.
    public let forcing: ForcingHistory
    /// Global-mean two-layer EBM response, K, over the simulated months.
    public let forcedResponse: ForcedResponse
    let patterns: Patterns
    let smoother: NoiseSmoother

    public init(configuration: SimulatorConfiguration) throws {
        let c = configuration
        guard c.endYear >= c.startYear else {
            throw SimulatorError.invalidConfiguration("endYear \(c.endYear) is before startYear \(c.startYear)")
        }
        guard c.startYear >= 1, c.endYear <= 9999 else {
            throw SimulatorError.invalidConfiguration("years must lie in 1...9999 (got \(c.startYear)–\(c.endYear))")
        }
        if let last = c.scenario.lastYear, c.endYear > last {
            throw SimulatorError.invalidConfiguration(
                "scenario \(c.scenario.rawValue) ends in \(last); endYear \(c.endYear) is after it")
        }
        if let t = c.threadCount, t < 1 {
            throw SimulatorError.invalidConfiguration("threadCount must be at least 1 (got \(t))")
        }
        let p = c.parameters
        guard (0..<1).contains(p.oceanPersistence), (0..<1).contains(p.landPersistence) else {
            throw SimulatorError.invalidConfiguration("persistence must lie in [0, 1)")
        }
        guard p.heatCapacities.count >= 2, p.layerCouplings.count == p.heatCapacities.count - 1,
              p.heatCapacities.allSatisfy({ $0 > 0 }), p.layerCouplings.allSatisfy({ $0 > 0 }), p.feedback > 0 else {
            throw SimulatorError.invalidConfiguration(
                "the energy-balance model needs k ≥ 2 positive heat capacities, k − 1 positive couplings and a positive feedback")
        }
        guard p.atlanticTimescale > 0, p.weatherLengthScale > 0 else {
            throw SimulatorError.invalidConfiguration("the Atlantic timescale and the weather length scale must be positive")
        }
        self.configuration = c
        timeAxis = TimeAxis.monthly(startYear: c.startYear, endYear: c.endYear, calendar: c.calendar)
        months = (c.startYear...c.endYear).flatMap { y in (1...12).map { YearMonth(year: y, month: $0) } }
        smoother = try NoiseSmoother(grid: c.grid, lengthScale: p.weatherLengthScale)
        patterns = Patterns(grid: c.grid, parameters: p)

        // Forced response: spin up from rest in `spinUpStartYear` (forcing ≈ 0 there).
        let spinStart = min(p.spinUpStartYear, c.startYear)
        let full = ForcingHistory(startYear: spinStart, endYear: c.endYear, scenario: c.scenario)
        let window = (12 * (c.startYear - spinStart))..<full.time.count
        forcing = full.slice(window)
        let ebm = EnergyBalanceModel(parameters: p)
        let total = ebm.layerResponse(to: full.total)
        let volc = ebm.response(to: full.volcanic)
        forcedResponse = ForcedResponse(surface: Array(total[0][window]), mixedLayer: Array(total[1][window]),
                                        deep: Array(total[total.count - 1][window]),
                                        volcanicSurface: Array(volc.surface[window]))
    }

    public var grid: Grid { configuration.grid }
    /// Number of simulated months.
    public var monthCount: Int { months.count }
    /// Values in one member: `monthCount × grid.cellCount`.
    public var valuesPerMember: Int { months.count * configuration.grid.cellCount }
    /// Land fraction of each cell, (lat, lon), in [0, 1].
    public var landFraction: [Float] { patterns.landFraction }
    /// Pre-industrial monthly climatology, (12, lat, lon), K (month 0 = January).
    public var climatology: [Float] { patterns.climatology }
    /// Mid-month decimal years of the simulated months (months of equal length).
    public var decimalYears: [Double] { forcing.time }

    /// The random stream of member `k` (k ≥ 0; callers validate user input).
    func stream(ofMember k: Int) -> RandomStream {
        precondition(k >= 0, "member index must be non-negative (got \(k))")
        return RandomStream(seed: configuration.seed).substream(UInt64(k))
    }

    /// One-line description for the CF `source` attribute.
    public var sourceDescription: String {
        "EnsembleGen synthetic large ensemble (3-layer EBM forced response, recharge-oscillator ENSO, "
            + "AR(1) Atlantic mode, correlated AR(1) weather noise), seed \(configuration.seed)"
    }

    /// Literature behind the model, for the CF `references` attribute.
    public static let references = "Held et al. 2010 J. Climate; Geoffroy et al. 2013 J. Climate; Cummins et al. 2020 J. Climate; "
        + "Myhre et al. 1998 GRL; Sato et al. 1993 JGR; IPCC AR5/AR6 WG1 ch. 7-8; Jin 1997 JAS; Burgers et al. 2005 GRL; "
        + "Stein et al. 2014 J. Climate; Levine et al. 2016 J. Climate"

    /// Member `k`, (time, lat, lon), K.
    public func member(_ k: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: valuesPerMember) { buf, count in
            member(k, into: buf)
            count = valuesPerMember
        }
    }

    /// Writes member `k`, (time, lat, lon), K, into `output` (exactly `valuesPerMember`
    /// values). Parallel inside the member over months and cells; results do not depend on
    /// the thread count.
    public func member(_ k: Int, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(output.count == valuesPerMember,
                     "member buffer holds \(output.count) values, expected \(valuesPerMember)")
        guard let out = output.baseAddress else { return }
        let nc = configuration.grid.cellCount, nt = months.count
        let memberStream = stream(ofMember: k)
        let modes = InternalModes(member: memberStream, months: nt, parameters: configuration.parameters)
        let weather = memberStream.substream("weather")
        let firstMonth = 12 * configuration.startYear

        // 1. Spatially smoothed unit-variance white noise for every month; the noise of
        //    month t comes from its own substream (absolute month index), so months are
        //    independent work items.
        parallelFor(nt) { range in
            var white = [Float](repeating: 0, count: nc)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: smoother.scratchCount)
            defer { scratch.deallocate() }
            for t in range {
                var rs = weather.substream(UInt64(firstMonth + t))
                rs.fillGaussian(&white)
                white.withUnsafeBufferPointer { w in
                    if let base = w.baseAddress { smoother.smooth(base, into: out + t * nc, scratch: scratch) }
                }
            }
        }

        // 2. AR(1) in time at each cell: x_t = a x_{t−1} + √(1 − a²) ε_t (unit variance).
        patterns.persistence.withUnsafeBufferPointer { a in
            patterns.innovation.withUnsafeBufferPointer { b in
                parallelFor(nc) { range in
                    for t in 1..<max(nt, 1) {
                        let cur = out + t * nc, prev = out + (t - 1) * nc
                        for p in range { cur[p] = a[p] * prev[p] + b[p] * cur[p] }
                    }
                }
            }
        }

        // 3. Assemble: climatology + forced + ENSO + Atlantic + scaled weather noise.
        let tNon = forcedResponse.nonVolcanicSurface, tVol = forcedResponse.volcanicSurface
        let pt = patterns
        parallelFor(nt) { range in
            for t in range {
                let m = months[t].month - 1
                let f = Float(tNon[t]), v = Float(tVol[t]), e = Float(modes.enso[t])
                let el = Float(modes.ensoLagged[t]), at = Float(modes.atlantic[t])
                let row = out + t * nc
                pt.climatology.withUnsafeBufferPointer { clim in
                    pt.noiseAmplitude.withUnsafeBufferPointer { amp in
                        for p in 0..<nc {
                            var x = clim[m * nc + p] + pt.forced[p] * f + pt.volcanic[p] * v
                            x += pt.enso[p] * e + pt.ensoLagged[p] * el + pt.atlantic[p] * at
                            row[p] = x + amp[m * nc + p] * row[p]
                        }
                    }
                }
            }
        }
    }

    /// The exact ensemble mean (climatology + forced response; every internal term has
    /// zero mean), (time, lat, lon), K.
    public func ensembleMean() -> [Float] {
        let nc = configuration.grid.cellCount
        var out = [Float](repeating: 0, count: valuesPerMember)
        let tNon = forcedResponse.nonVolcanicSurface, tVol = forcedResponse.volcanicSurface
        for t in months.indices {
            let m = months[t].month - 1
            let f = Float(tNon[t]), v = Float(tVol[t])
            for p in 0..<nc {
                out[t * nc + p] = patterns.climatology[m * nc + p] + patterns.forced[p] * f + patterns.volcanic[p] * v
            }
        }
        return out
    }

    /// Runs `body` over contiguous chunks of 0..<count, on `threadCount` threads. Each
    /// index is processed by the same arithmetic whatever the chunking.
    private func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let threads = min(count, configuration.threadCount ?? ProcessInfo.processInfo.activeProcessorCount)
        if threads <= 1 {
            body(0..<count)
            return
        }
        let chunks = min(count, threads * 4)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body((c * count / chunks)..<((c + 1) * count / chunks))
        }
    }
}
