// Reshape, concatenation and splitting along the last dimension, slicing along time, and
// reductions to a scalar.

extension Variable {
    /// The same values under another shape (no copy).
    public func reshaped(_ newShape: [Int]) -> Variable {
        let result = value.reshaped(newShape)
        return Variable(result, inputs: [self]) { gradient in
            addInPlace(self.gradientBuffer(), gradient)
        }
    }

    /// Concatenation along the last dimension; all parts share the leading dimensions.
    public static func concatenate(_ parts: [Variable]) -> Variable {
        precondition(!parts.isEmpty, "concatenate: no parts")
        let leading = Array(parts[0].shape.dropLast())
        for part in parts {
            precondition(Array(part.shape.dropLast()) == leading, "concatenate: \(part.shape) vs \(parts[0].shape)")
        }
        let widths = parts.map { $0.value.lastDimension }
        let total = widths.reduce(0, +), rows = parts[0].value.count / max(widths[0], 1)
        let result = Tensor(uninitializedShape: leading + [total])
        var offset = 0
        for (part, width) in zip(parts, widths) {
            copyColumns(from: part.value.pointer, width: width, into: result.pointer, stride: total,
                        offset: offset, rows: rows)
            offset += width
        }
        return Variable(result, inputs: parts) { gradient in
            var offset = 0
            for (part, width) in zip(parts, widths) {
                if part.requiresGradient {
                    let target = part.gradientBuffer().pointer, source = gradient.pointer
                    for r in 0..<rows {
                        for j in 0..<width { target[r * width + j] += source[r * total + offset + j] }
                    }
                }
                offset += width
            }
        }
    }

    /// Splits the last dimension into consecutive parts of the given widths.
    public func split(_ widths: [Int]) -> [Variable] {
        let total = value.lastDimension
        precondition(widths.reduce(0, +) == total, "split: widths \(widths) for last dimension \(total)")
        let rows = value.count / max(total, 1), leading = Array(shape.dropLast())
        var offset = 0
        return widths.map { width in
            let start = offset
            offset += width
            let part = Tensor(uninitializedShape: leading + [width])
            let source = value.pointer, target = part.pointer
            for r in 0..<rows { copyFloats(target + r * width, from: source + r * total + start, count: width) }
            return Variable(part, inputs: [self]) { gradient in
                let dx = self.gradientBuffer().pointer, g = gradient.pointer
                for r in 0..<rows {
                    for j in 0..<width { dx[r * total + start + j] += g[r * width + j] }
                }
            }
        }
    }

    /// Entries `range` of dimension 1 of x [batch, time, …] (a window of months).
    public func slice(time range: Range<Int>) -> Variable {
        precondition(value.rank >= 2 && range.lowerBound >= 0 && range.upperBound <= shape[1],
                     "slice: time \(range) of \(shape)")
        let batch = shape[0], time = shape[1], inner = value.count / (batch * time)
        var newShape = shape
        newShape[1] = range.count
        let result = Tensor(uninitializedShape: newShape)
        let block = range.count * inner
        for b in 0..<batch {
            (result.pointer + b * block).update(from: value.pointer + (b * time + range.lowerBound) * inner, count: block)
        }
        return Variable(result, inputs: [self]) { gradient in
            let dx = self.gradientBuffer().pointer, g = gradient.pointer
            for b in 0..<batch {
                let target = dx + (b * time + range.lowerBound) * inner, source = g + b * block
                for i in 0..<block { target[i] += source[i] }
            }
        }
    }

    /// Sum of all elements → scalar [].
    public func sum() -> Variable {
        var total: Double = 0
        for i in 0..<value.count { total += Double(value[i]) }
        let result = Tensor(shape: [], values: [Float(total)])
        return Variable(result, inputs: [self]) { gradient in
            let dx = self.gradientBuffer().pointer, g = gradient[0]
            for i in 0..<self.value.count { dx[i] += g }
        }
    }

    /// Mean of all elements → scalar [].
    public func mean() -> Variable { sum() * (1 / Float(value.count)) }
}

/// Copies a rows × width block into columns offset..<offset+width of a rows × stride matrix.
func copyColumns(from source: UnsafePointer<Float>, width: Int, into target: UnsafeMutablePointer<Float>,
                 stride: Int, offset: Int, rows: Int) {
    for r in 0..<rows { copyFloats(target + r * stride + offset, from: source + r * width, count: width) }
}

/// Copies `count` floats between non-overlapping buffers. Short runs (the channel runs of
/// im2col, matrix rows up to 512 floats) go in 8-float vectors and a scalar tail instead of a memmove call,
/// whose call overhead dominated im2col at 16 channels.
@inline(__always)
func copyFloats(_ destination: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, count: Int) {
    guard count <= 512 else {
        destination.update(from: source, count: count)
        return
    }
    let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(destination)
    var i = 0
    while i + 8 <= count {
        to.storeBytes(of: from.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self),
                      toByteOffset: 4 * i, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count {
        destination[i] = source[i]
        i += 1
    }
}

