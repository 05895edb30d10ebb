import Climate
import Foundation
import OutputFiles

/// One ensemble's curves for the comparison figures.
struct FigureSeries {
    var name: String
    var color: RGB
    var summary: DiagnosticsSummary
}

/// Line-plot figures (cairo, PNG). All sizes in pixels. Each drawing function returns
/// whether it wrote its file (false when there is nothing to draw).
enum Figures {
    /// Draws figure `name` into `directory` and lists its URL in `urls` only when the
    /// drawing wrote it (a figure with nothing to show is skipped, never claimed).
    static func emit(_ name: String, in directory: OutputDirectory, into urls: inout [URL], _ draw: (URL) throws -> Bool) throws {
        let url = URL(fileURLWithPath: directory.file(name))
        if try draw(url), FileManager.default.fileExists(atPath: url.path) { urls.append(url) }
    }

    static func fileName(_ s: String) -> String {
        let mapped = s.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" }
        return String(mapped)
    }

    /// Annual GMST of every member of the first series (thin), every series' ensemble mean
    /// and 5–95% band, as anomalies from the first series' mean over its first 30 years.
    static func globalMeanEnvelope(_ series: [FigureSeries], to url: URL) throws -> Bool {
        guard let first = series.first, !first.summary.globalMean.years.isEmpty else { return false }
        let g0 = first.summary.globalMean
        let baseYears = min(30, g0.years.count)
        let base = g0.ensembleMean.prefix(baseYears).reduce(0, +) / Double(baseYears)
        let canvas = try Canvas(width: 1000, height: 560)
        var all = [Double]()
        for s in series { all += s.summary.globalMean.percentile5 + s.summary.globalMean.percentile95 }
        all += g0.annualMeans.flatMap { $0 }
        let years = series.flatMap { $0.summary.globalMean.years.map(Double.init) }
        let ax = Axes(canvas: canvas, x0: 90, y0: 50, width: 880, height: 440,
                      xRange: (years.min() ?? 0)...(years.max() ?? 1), yRange: dataRange(all.map { $0 - base }))
        ax.drawFrame(title: "Global-mean surface temperature (annual means)", xLabel: "year",
                     yLabel: "anomaly (K) from \(g0.years[0])–\(g0.years[baseYears - 1]) mean of \(first.name)",
                     xTicks: niceTicks(ax.xRange).filter { $0 == $0.rounded() })   // whole years
        var legend = [(String, RGB, LegendStyle)]()
        let memberAlpha = min(0.5, 6 / Double(max(g0.annualMeans.count, 1)))
        for m in g0.annualMeans { ax.line(g0.years.map(Double.init), m.map { $0 - base }, color: first.color, width: 0.5, alpha: memberAlpha) }
        for s in series.reversed() {
            let gm = s.summary.globalMean, x = gm.years.map(Double.init)
            ax.band(x, lo: gm.percentile5.map { $0 - base }, hi: gm.percentile95.map { $0 - base }, color: s.color, alpha: 0.22)
        }
        for s in series {
            let gm = s.summary.globalMean
            ax.line(gm.years.map(Double.init), gm.ensembleMean.map { $0 - base }, color: s.color, width: 2.4)
            legend.append(("\(s.name) mean (\(s.summary.memberCount) members)", s.color, .line(width: 2.4, dash: [])))
            legend.append(("\(s.name) 5–95%", s.color, .band(alpha: 0.22)))
        }
        legend.insert(("\(first.name) members", first.color, .line(width: 0.5, dash: [])), at: 1)
        ax.legend(legend, topLeft: true)
        try canvas.writePNG(to: url)
        return true
    }

    /// Member-averaged Welch spectra of Niño3.4 against period (log–log), peaks marked;
    /// the period axis starts at the shortest resolved period (2 years for annual data).
    static func ninoSpectra(_ series: [FigureSeries], to url: URL) throws -> Bool {
        let canvas = try Canvas(width: 900, height: 560)
        var dens = [Double](), periods = [Double]()
        for s in series {
            let sp = s.summary.nino34.spectrum
            for k in 1..<sp.frequencies.count where sp.density[k] > 0 { dens.append(sp.density[k]); periods.append(1 / sp.frequencies[k]) }
        }
        guard let dmax = dens.max(), let pmin = periods.min(), let pmax = periods.max() else { return false }
        let dmin = max(dens.min() ?? dmax * 1e-4, dmax * 1e-4)
        let yr = pow(10, floor(log10(dmin)))...pow(10, ceil(log10(dmax)))
        let ax = Axes(canvas: canvas, x0: 95, y0: 50, width: 770, height: 440, xRange: pmin...max(pmax, 2 * pmin), yRange: yr, xLog: true, yLog: true)
        let ticks = [0.25, 0.5, 1, 2, 3, 5, 7, 10, 20, 40, 80].filter { ax.xRange.contains($0) }
        let annual = series.contains { $0.summary.isAnnual }
        ax.drawFrame(title: annual ? "Niño3.4 power spectrum of annual means (Welch; periods < 2 yr not resolved)"
                                   : "Niño3.4 power spectrum (Welch, Hann, 50% overlap)",
                     xLabel: "period (years)",
                     yLabel: "power spectral density (K² yr)", xTicks: ticks)
        var legend = [(String, RGB, LegendStyle)]()
        for s in series {
            let sp = s.summary.nino34.spectrum
            let ks = Array(1..<sp.frequencies.count)
            ax.line(ks.map { 1 / sp.frequencies[$0] }, ks.map { sp.density[$0] }, color: s.color, width: 2)
            if s.summary.nino34.peakPeriodYears.isFinite { ax.vline(s.summary.nino34.peakPeriodYears, color: s.color, width: 1, dash: [5, 4]) }
            legend.append(("\(s.name): peak \(Fmt.num(s.summary.nino34.peakPeriodYears, 1)) yr, σ = \(Fmt.num(s.summary.nino34.standardDeviation, 2)) K",
                           s.color, .line(width: 2, dash: [])))
        }
        ax.legend(legend, topLeft: true)
        try canvas.writePNG(to: url)
        return true
    }

    /// Niño3.4 standard deviation by calendar month (monthly data only).
    static func ninoSeasonality(_ series: [FigureSeries], to url: URL) throws -> Bool {
        let curves = series.compactMap { s in s.summary.nino34.standardDeviationByMonth.map { (s, $0) } }
        guard !curves.isEmpty else { return false }
        let canvas = try Canvas(width: 800, height: 500)
        let all = curves.flatMap { $0.1 }
        let top = (all.filter { $0.isFinite }.max() ?? 1) * 1.35
        let ax = Axes(canvas: canvas, x0: 85, y0: 50, width: 680, height: 380, xRange: 0.5...12.5, yRange: 0...max(top, 1e-6))
        let names = ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"]
        ax.drawFrame(title: "Niño3.4 standard deviation by calendar month", xLabel: "calendar month", yLabel: "standard deviation (K)",
                     xTicks: (1...12).map(Double.init), xTickText: { names[Int($0) - 1] })
        for (s, byMonth) in curves {
            ax.line((1...12).map(Double.init), byMonth, color: s.color, width: 2.2)
        }
        ax.legend(curves.map { ($0.0.name, $0.0.color, .line(width: 2.2, dash: [])) }, topLeft: true)
        try canvas.writePNG(to: url)
        return true
    }

    /// One panel per eruption (and the composite): ensemble-mean global-mean anomaly with
    /// the 5–95% member range of each series; lags in months or (annual data) years.
    static func volcanicComposites(_ series: [FigureSeries], to url: URL) throws -> Bool {
        guard let first = series.first, let unit = first.summary.volcanic.first?.lagUnit else { return false }
        let names = first.summary.volcanic.map(\.name)
        let cols = min(4, names.count), rows = (names.count + cols - 1) / cols
        let pw = 300.0, ph = 230.0
        let canvas = try Canvas(width: Int(Double(cols) * (pw + 80) + 30), height: Int(Double(rows) * (ph + 90) + 55))
        canvas.text("Volcanic superposed-epoch composites of global-mean temperature (relative to \(unit == .year ? "the year" : "the 12 months") before)",
                    x: Double(canvas.width) / 2, y: 22, size: 15, align: .center, bold: true)
        var all = [Double]()
        for s in series { for c in s.summary.volcanic { all += c.percentile5 + c.percentile95 } }
        let yr = dataRange(all)
        for (p, name) in names.enumerated() {
            let x0 = 85 + Double(p % cols) * (pw + 80), y0 = 70 + Double(p / cols) * (ph + 90)
            let lags = first.summary.volcanic[p].lags.map(Double.init)
            let ax = Axes(canvas: canvas, x0: x0, y0: y0, width: pw, height: ph, xRange: (lags.first ?? -12)...(lags.last ?? 48), yRange: yr)
            let ticks = unit == .year ? lags : [-12, 0, 12, 24, 36, 48]
            ax.drawFrame(title: name, xLabel: "\(unit.plural) after eruption", yLabel: "anomaly (K)", xTicks: ticks, fontSize: 11)
            ax.vline(0, color: .gray, dash: [4, 3])
            ax.hline(0, color: .gray, width: 0.8)
            for s in series {
                guard let c = s.summary.volcanic.first(where: { $0.name == name }) else { continue }
                ax.band(lags, lo: c.percentile5, hi: c.percentile95, color: s.color, alpha: 0.2)
                ax.line(lags, c.ensembleMean, color: s.color, width: 2)
            }
            if p == 0 && names.count == rows * cols { ax.legend(series.map { ($0.name, $0.color, .line(width: 2, dash: [])) }, topLeft: false, fontSize: 10) }
        }
        if names.count < rows * cols {
            // Legend in the first free panel slot, clear of the data.
            let p = names.count
            let x0 = 85 + Double(p % cols) * (pw + 80), y0 = 70 + Double(p / cols) * (ph + 90)
            Axes(canvas: canvas, x0: x0, y0: y0, width: pw, height: ph, xRange: 0...1, yRange: 0...1)
                .legend(series.map { ("\($0.name): mean, 5–95% band", $0.color, .line(width: 2, dash: [])) }, topLeft: true, fontSize: 12)
        }
        try canvas.writePNG(to: url)
        return true
    }

    /// Rank histograms normalised so a flat histogram is 1, one panel per candidate.
    static func rankHistograms(_ items: [(String, RGB, RankHistogram)], to url: URL) throws -> Bool {
        guard !items.isEmpty else { return false }
        let pw = 360.0, ph = 260.0
        let width = max(Double(items.count) * (pw + 90) + 30, 720)
        let left = (width - Double(items.count) * (pw + 90) + 90) / 2 + 20
        let canvas = try Canvas(width: Int(width), height: Int(ph + 140))
        let maxRel = items.flatMap { h in h.2.counts.map { Double($0) * Double(h.2.counts.count) / Double(max(h.2.counts.reduce(0, +), 1)) } }.max() ?? 1
        for (p, (name, color, h)) in items.enumerated() {
            let x0 = left + Double(p) * (pw + 90)
            let bins = h.counts.count, total = Double(max(h.counts.reduce(0, +), 1))
            let ax = Axes(canvas: canvas, x0: x0, y0: 60, width: pw, height: ph, xRange: -0.5...(Double(bins) - 0.5),
                          yRange: 0...max(1.5, maxRel * 1.1))
            let tickStep = max(1, bins / 8)
            ax.drawFrame(title: "\(name): χ²/dof = \(Fmt.num(h.reducedChiSquare, 1))", xLabel: "rank of reference member among \(bins - 1) members",
                         yLabel: "frequency × (members + 1)", xTicks: stride(from: 0, to: bins, by: tickStep).map(Double.init), fontSize: 11)
            for (k, c) in h.counts.enumerated() {
                let v = Double(c) * Double(bins) / total
                let xl = ax.px(Double(k) - 0.4), xr = ax.px(Double(k) + 0.4)
                canvas.rectangle(x: xl, y: ax.py(v), width: xr - xl, height: ax.py(0) - ax.py(v), fill: color)
            }
            ax.hline(1, color: .black, width: 1.2, dash: [6, 4])
        }
        canvas.text("Rank histograms of the reference members (dashed line: flat)", x: Double(canvas.width) / 2, y: 22, size: 14, align: .center, bold: true)
        try canvas.writePNG(to: url)
        return true
    }
}

extension DiagnosticsReport {
    /// Writes the single-ensemble figures into `directory` (created if needed) and returns their URLs:
    /// GMST envelope, Niño3.4 spectrum and seasonality, volcanic composites, and maps of the
    /// ENSO regression, lag-1 autocorrelation and EOF 1.
    @discardableResult
    public func writeFigures(to directory: URL) throws -> [URL] {
        try writeFigures(to: try OutputDirectory(path: directory.path))
    }

    /// As `writeFigures(to:)`, remembering new files in `directory` for its `rollback()`.
    @discardableResult
    public func writeFigures(to directory: OutputDirectory) throws -> [URL] {
        try directory.create()
        let s = [FigureSeries(name: summary.name, color: RGB.palette[0], summary: summary)]
        var urls = [URL]()
        func out(_ name: String, _ draw: (URL) throws -> Bool) throws { try Figures.emit(name, in: directory, into: &urls, draw) }
        try out("gmst_envelope.png") { try Figures.globalMeanEnvelope(s, to: $0) }
        try out("nino34_spectrum.png") { try Figures.ninoSpectra(s, to: $0) }
        try out("nino34_std_by_month.png") { try Figures.ninoSeasonality(s, to: $0) }
        try out("volcanic_composites.png") { try Figures.volcanicComposites(s, to: $0) }
        try out("map_enso_regression.png") {
            try MapPlot.draw(maps.ensoRegression, grid: grid, spec: MapSpec(
                title: "ENSO regression: \(summary.name)", units: "regression on Niño3.4 (K per K)", colormap: .diverging,
                range: MapPlot.symmetricRange(maps.ensoRegression), landMask: landMask), to: $0)
            return true
        }
        try out("map_lag1_autocorrelation.png") {
            try MapPlot.draw(maps.lag1, grid: grid, spec: MapSpec(
                title: "Lag-1 autocorrelation of \(summary.isAnnual ? "annual" : "monthly") anomalies: \(summary.name)",
                units: "lag-1 autocorrelation (1 \(summary.timeStep.rawValue))",
                colormap: .sequential, range: 0...1, landMask: landMask), to: $0)
            return true
        }
        if let eof1 = maps.eof.patterns.first {
            try out("map_eof1.png") {
                try MapPlot.draw(eof1, grid: grid, spec: MapSpec(
                    title: "EOF 1 (\(Fmt.num(100 * (maps.eof.varianceFractions.first ?? .nan), 1))% of variance): \(summary.name)",
                    units: "K per standard deviation of PC 1", colormap: .diverging, range: MapPlot.symmetricRange(eof1), landMask: landMask),
                    to: $0)
                return true
            }
        }
        return urls
    }
}

extension EvaluationReport {
    /// Writes the comparison figures into `directory` and returns their URLs: GMST
    /// envelope, Niño3.4 spectra and seasonality, volcanic composites, rank histograms,
    /// and maps of the spread ratio (per candidate) and the ENSO regression (reference and
    /// each candidate, one colour scale).
    @discardableResult
    public func writeFigures(to directory: URL) throws -> [URL] {
        try writeFigures(to: try OutputDirectory(path: directory.path))
    }

    /// As `writeFigures(to:)`, remembering new files in `directory` for its `rollback()`.
    @discardableResult
    public func writeFigures(to directory: OutputDirectory) throws -> [URL] {
        try directory.create()
        var urls = [URL]()
        func out(_ name: String, _ draw: (URL) throws -> Bool) throws { try Figures.emit(name, in: directory, into: &urls, draw) }
        let cands = summary.candidates.enumerated().map { FigureSeries(name: $0.element.name, color: RGB.palette[($0.offset + 1) % RGB.palette.count], summary: $0.element.diagnostics) }
        let ref = FigureSeries(name: summary.reference.name, color: RGB.palette[0], summary: summary.reference)
        let gmstSeries = (cands.first.map { [$0] } ?? []) + [ref]
        try out("gmst_envelope.png") { try Figures.globalMeanEnvelope(gmstSeries, to: $0) }
        try out("nino34_spectrum.png") { try Figures.ninoSpectra([ref] + cands, to: $0) }
        try out("nino34_std_by_month.png") { try Figures.ninoSeasonality([ref] + cands, to: $0) }
        try out("volcanic_composites.png") { try Figures.volcanicComposites([ref] + cands, to: $0) }
        try out("rank_histogram.png") {
            try Figures.rankHistograms(zip(summary.candidates, cands).map { ($0.0.name, $0.1.color, $0.0.verification.rankHistogram) }, to: $0)
        }
        let grid = referenceDiagnostics.grid, mask = referenceDiagnostics.landMask
        for (c, map) in zip(summary.candidates, spreadRatioMaps) {
            try out("map_spread_ratio_\(Figures.fileName(c.name)).png") {
                try MapPlot.draw(map, grid: grid, spec: MapSpec(
                    title: "Spread ratio \(c.name) / \(summary.reference.name) (global \(Fmt.num(c.comparison.spreadRatio, 2)))",
                    units: "ratio of time-mean ensemble standard deviations", colormap: .diverging,
                    range: MapPlot.symmetricRange(map, center: 1, minimum: 0.1), landMask: mask), to: $0)
                return true
            }
        }
        let regressions = [referenceDiagnostics] + candidateDiagnostics
        let range = MapPlot.symmetricRange(regressions.flatMap { $0.maps.ensoRegression })
        for d in regressions {
            try out("map_enso_regression_\(Figures.fileName(d.summary.name)).png") {
                try MapPlot.draw(d.maps.ensoRegression, grid: grid, spec: MapSpec(
                    title: "ENSO regression: \(d.summary.name)", units: "regression on Niño3.4 (K per K)", colormap: .diverging,
                    range: range, landMask: mask), to: $0)
                return true
            }
        }
        return urls
    }
}
