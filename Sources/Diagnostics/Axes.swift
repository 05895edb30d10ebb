import Foundation

/// Ticks at "nice" values (1, 2, 2.5, 5 × 10^k) covering `range`, about `target` of them.
func niceTicks(_ range: ClosedRange<Double>, target: Int = 6) -> [Double] {
    let span = range.upperBound - range.lowerBound
    guard span > 0, span.isFinite else { return [range.lowerBound] }
    let raw = span / Double(max(target, 1))
    let mag = pow(10, floor(log10(raw)))
    let step = [1, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
    var t = ceil(range.lowerBound / step - 1e-9) * step, out = [Double]()
    while t <= range.upperBound + 1e-9 * step { out.append(abs(t) < 1e-12 * step ? 0 : t); t += step }
    return out
}

/// Tick label with as many decimals as the tick spacing needs.
func tickLabel(_ v: Double, step: Double) -> String {
    if abs(v) >= 1e5 || (abs(v) < 1e-3 && v != 0) { return String(format: "%.0e", v) }
    var d = step >= 1 ? 0 : Int(-floor(log10(step) + 1e-9))
    let scaled = step * pow(10, Double(d))
    if abs(scaled - scaled.rounded()) > 1e-6 { d += 1 }
    return String(format: "%.\(min(d, 5))f", v)
}

/// Range of the finite values padded by `pad` of the span (or ±1 when flat).
func dataRange(_ values: [Double], pad: Double = 0.05) -> ClosedRange<Double> {
    let f = values.filter { $0.isFinite }
    guard let lo = f.min(), let hi = f.max() else { return 0...1 }
    if hi - lo < 1e-12 { return (lo - 1)...(hi + 1) }
    let d = (hi - lo) * pad
    return (lo - d)...(hi + d)
}

/// A line style for legends.
enum LegendStyle { case line(width: Double, dash: [Double]), band(alpha: Double), bar }

/// A rectangular plot panel with linear or logarithmic axes, drawn on a `Canvas`.
struct Axes {
    let canvas: Canvas
    let x0, y0, width, height: Double
    var xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
    var xLog = false, yLog = false

    func px(_ x: Double) -> Double {
        let (a, b, v) = xLog ? (log10(xRange.lowerBound), log10(xRange.upperBound), log10(x)) : (xRange.lowerBound, xRange.upperBound, x)
        return x0 + (v - a) / (b - a) * width
    }
    func py(_ y: Double) -> Double {
        let (a, b, v) = yLog ? (log10(yRange.lowerBound), log10(yRange.upperBound), log10(y)) : (yRange.lowerBound, yRange.upperBound, y)
        return y0 + height - (v - a) / (b - a) * height
    }

    static func logTicks(_ r: ClosedRange<Double>) -> [Double] {
        var out = [Double]()
        var p = pow(10, floor(log10(r.lowerBound)))
        let mult: [Double] = log10(r.upperBound / r.lowerBound) > 3 ? [1] : [1, 2, 5]
        while p <= r.upperBound * 1.0001 {
            for m in mult where m * p >= r.lowerBound * 0.9999 && m * p <= r.upperBound * 1.0001 { out.append(m * p) }
            p *= 10
        }
        return out
    }

    /// Frame, grid, ticks, labels and title. `xTicks` overrides the automatic ticks.
    func drawFrame(title: String?, xLabel: String, yLabel: String, xTicks: [Double]? = nil, xTickText: ((Double) -> String)? = nil, fontSize: Double = 12) {
        let xt = xTicks ?? (xLog ? Axes.logTicks(xRange) : niceTicks(xRange))
        let yt = yLog ? Axes.logTicks(yRange) : niceTicks(yRange, target: 6)
        for t in xt where xRange.contains(t) { canvas.line([(px(t), y0), (px(t), y0 + height)], color: .lightGray, width: 0.7) }
        for t in yt where yRange.contains(t) { canvas.line([(x0, py(t)), (x0 + width, py(t))], color: .lightGray, width: 0.7) }
        canvas.rectangle(x: x0, y: y0, width: width, height: height, stroke: .black, lineWidth: 1)
        let xStep = xt.count > 1 ? abs(xt[1] - xt[0]) : 1, yStep = yt.count > 1 ? abs(yt[1] - yt[0]) : 1
        for t in xt where xRange.contains(t) {
            canvas.line([(px(t), y0 + height), (px(t), y0 + height + 4)], color: .black, width: 1)
            let label = xTickText?(t) ?? (xLog ? String(format: "%g", t) : tickLabel(t, step: xStep))
            canvas.text(label, x: px(t), y: y0 + height + 14, size: fontSize - 1, align: .center)
        }
        var maxLabel = 0.0
        for t in yt where yRange.contains(t) {
            canvas.line([(x0 - 4, py(t)), (x0, py(t))], color: .black, width: 1)
            let label = yLog ? String(format: "%g", t) : tickLabel(t, step: yStep)
            maxLabel = max(maxLabel, canvas.textWidth(label, size: fontSize - 1))
            canvas.text(label, x: x0 - 7, y: py(t), size: fontSize - 1, align: .right)
        }
        canvas.text(xLabel, x: x0 + width / 2, y: y0 + height + 34, size: fontSize, align: .center)
        canvas.text(yLabel, x: x0 - maxLabel - 20, y: y0 + height / 2, size: fontSize, align: .center, angle: -.pi / 2)
        if let title { canvas.text(title, x: x0 + width / 2, y: y0 - 14, size: fontSize + 2, align: .center, bold: true) }
    }

    func line(_ xs: [Double], _ ys: [Double], color: RGB, width: Double = 1.5, alpha: Double = 1, dash: [Double] = []) {
        canvas.clip(x: x0, y: y0, width: self.width, height: height)
        canvas.line(zip(xs, ys).map { ($0.0.isFinite && $0.1.isFinite && (!xLog || $0.0 > 0) && (!yLog || $0.1 > 0)) ? (px($0.0), py($0.1)) : (.nan, .nan) },
                    color: color, width: width, alpha: alpha, dash: dash)
        canvas.unclip()
    }

    /// Shaded band between `lo` and `hi`.
    func band(_ xs: [Double], lo: [Double], hi: [Double], color: RGB, alpha: Double = 0.25) {
        let idx = xs.indices.filter { lo[$0].isFinite && hi[$0].isFinite }
        guard idx.count > 1 else { return }
        canvas.clip(x: x0, y: y0, width: width, height: height)
        canvas.polygon(idx.map { (px(xs[$0]), py(hi[$0])) } + idx.reversed().map { (px(xs[$0]), py(lo[$0])) }, fill: color, alpha: alpha)
        canvas.unclip()
    }

    func hline(_ y: Double, color: RGB = .black, width: Double = 1, dash: [Double] = []) {
        line([xRange.lowerBound, xRange.upperBound], [y, y], color: color, width: width, dash: dash)
    }
    func vline(_ x: Double, color: RGB = .black, width: Double = 1, dash: [Double] = []) {
        guard xRange.contains(x) else { return }
        canvas.line([(px(x), y0), (px(x), y0 + height)], color: color, width: width, dash: dash)
    }

    /// Legend box in the top-right (or top-left) corner of the panel.
    func legend(_ entries: [(String, RGB, LegendStyle)], topLeft: Bool = false, fontSize: Double = 11) {
        guard !entries.isEmpty else { return }
        let w = (entries.map { canvas.textWidth($0.0, size: fontSize) }.max() ?? 0) + 44, h = Double(entries.count) * (fontSize + 7) + 8
        let bx = topLeft ? x0 + 8 : x0 + width - w - 8, by = y0 + 8
        canvas.rectangle(x: bx, y: by, width: w, height: h, fill: .white, stroke: .gray, lineWidth: 0.6)
        for (i, (label, color, style)) in entries.enumerated() {
            let cy = by + 4 + (Double(i) + 0.5) * (fontSize + 7)
            switch style {
            case .line(let lw, let dash): canvas.line([(bx + 6, cy), (bx + 30, cy)], color: color, width: lw, dash: dash)
            case .band(let a): canvas.polygon([(bx + 6, cy - 5), (bx + 30, cy - 5), (bx + 30, cy + 5), (bx + 6, cy + 5)], fill: color, alpha: a)
            case .bar: canvas.rectangle(x: bx + 10, y: cy - 5, width: 16, height: 10, fill: color)
            }
            canvas.text(label, x: bx + 36, y: cy, size: fontSize)
        }
    }
}
