import CCairo
import Foundation
import OutputFiles

/// An RGB colour with components in [0, 1].
public struct RGB: Sendable, Equatable {
    public var r, g, b: Double
    public init(_ r: Double, _ g: Double, _ b: Double) { self.r = r; self.g = g; self.b = b }
    public init(hex: UInt32) {
        r = Double((hex >> 16) & 0xFF) / 255; g = Double((hex >> 8) & 0xFF) / 255; b = Double(hex & 0xFF) / 255
    }
    public static let black = RGB(0, 0, 0), white = RGB(1, 1, 1), gray = RGB(0.5, 0.5, 0.5), lightGray = RGB(0.85, 0.85, 0.85)
    /// Series colours (colour-blind-safe Okabe–Ito palette).
    public static let palette: [RGB] = [RGB(hex: 0x0072B2), RGB(hex: 0xD55E00), RGB(hex: 0x009E73),
                                        RGB(hex: 0xCC79A7), RGB(hex: 0xE69F00), RGB(hex: 0x56B4E9)]
    func mixed(with o: RGB, _ t: Double) -> RGB { RGB(r + (o.r - r) * t, g + (o.g - g) * t, b + (o.b - b) * t) }
}

/// Horizontal text alignment relative to the anchor point.
enum TextAlign { case left, center, right }

/// A raster drawing surface on cairo's image backend, in pixel coordinates with y down.
final class Canvas {
    let width: Int, height: Int
    private let surface: OpaquePointer
    let cr: OpaquePointer

    init(width: Int, height: Int) throws {
        guard let s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)),
              cairo_surface_status(s) == CAIRO_STATUS_SUCCESS, let c = cairo_create(s) else {
            throw DiagnosticsError.io("cairo could not create a \(width)×\(height) image surface")
        }
        self.width = width; self.height = height; surface = s; cr = c
        setColor(.white)
        cairo_paint(cr)
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
    }

    deinit { cairo_destroy(cr); cairo_surface_destroy(surface) }

    func setColor(_ c: RGB, alpha: Double = 1) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha) }

    /// Polyline through `points`; non-finite points break the line.
    func line(_ points: [(Double, Double)], color: RGB, width: Double = 1.5, alpha: Double = 1, dash: [Double] = []) {
        setColor(color, alpha: alpha)
        cairo_set_line_width(cr, width)
        dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32(dash.count), 0) }
        var pen = false
        for (x, y) in points {
            guard x.isFinite, y.isFinite else { pen = false; continue }
            if pen { cairo_line_to(cr, x, y) } else { cairo_move_to(cr, x, y); pen = true }
        }
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)
    }

    /// Filled polygon (optionally stroked with the same colour to hide antialiasing seams).
    func polygon(_ points: [(Double, Double)], fill: RGB, alpha: Double = 1, seamStroke: Double = 0) {
        guard let first = points.first else { return }
        cairo_move_to(cr, first.0, first.1)
        for p in points.dropFirst() { cairo_line_to(cr, p.0, p.1) }
        cairo_close_path(cr)
        setColor(fill, alpha: alpha)
        if seamStroke > 0 {
            cairo_fill_preserve(cr)
            cairo_set_line_width(cr, seamStroke)
            cairo_stroke(cr)
        } else {
            cairo_fill(cr)
        }
    }

    func rectangle(x: Double, y: Double, width w: Double, height h: Double, fill: RGB? = nil, stroke: RGB? = nil, lineWidth: Double = 1) {
        if let fill { cairo_rectangle(cr, x, y, w, h); setColor(fill); cairo_fill(cr) }
        if let stroke { cairo_rectangle(cr, x, y, w, h); setColor(stroke); cairo_set_line_width(cr, lineWidth); cairo_stroke(cr) }
    }

    /// Width of `text` in pixels at `size`.
    func textWidth(_ text: String, size: Double, bold: Bool = false) -> Double {
        font(size: size, bold: bold)
        var e = cairo_text_extents_t()
        cairo_text_extents(cr, text, &e)
        return e.x_advance
    }

    private func font(size: Double, bold: Bool) {
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// Draws `text` with its baseline-middle (vertically centred on x-height) at (x, y),
    /// aligned horizontally; `angle` in radians rotates about the anchor (−π/2 = upwards).
    func text(_ text: String, x: Double, y: Double, size: Double = 12, align: TextAlign = .left,
              color: RGB = .black, bold: Bool = false, angle: Double = 0) {
        font(size: size, bold: bold)
        var e = cairo_text_extents_t()
        cairo_text_extents(cr, text, &e)
        let dx: Double
        switch align { case .left: dx = 0; case .center: dx = -e.x_advance / 2; case .right: dx = -e.x_advance }
        cairo_save(cr)
        cairo_translate(cr, x, y)
        cairo_rotate(cr, angle)
        cairo_move_to(cr, dx, 0.36 * size)
        setColor(color)
        cairo_show_text(cr, text)
        cairo_restore(cr)
    }

    func clip(x: Double, y: Double, width w: Double, height h: Double) { cairo_save(cr); cairo_rectangle(cr, x, y, w, h); cairo_clip(cr) }
    func unclip() { cairo_restore(cr) }

    /// Encodes the PNG in memory and writes it as an `OutputFile` (checked destination,
    /// exclusive partial, clear disk-full message), which cairo's own file writer cannot give.
    func writePNG(to url: URL) throws {
        cairo_surface_flush(surface)
        let buffer = PNGBuffer()
        let context = Unmanaged.passUnretained(buffer).toOpaque()
        let status = cairo_surface_write_to_png_stream(surface, { context, bytes, length in
            guard let context, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
            Unmanaged<PNGBuffer>.fromOpaque(context).takeUnretainedValue().data.append(bytes, count: Int(length))
            return CAIRO_STATUS_SUCCESS
        }, context)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw DiagnosticsError.io("could not encode \(url.path): \(String(cString: cairo_status_to_string(status)))")
        }
        try OutputFile.write(buffer.data, to: url.path)
    }
}

/// Bytes collected from cairo's PNG stream.
private final class PNGBuffer {
    var data = Data()
}
