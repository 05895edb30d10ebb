import NetCDF

extension CFFieldLayout {
    /// Values per time step in program order (lat × lon).
    var cellCount: Int { grid.cellCount }

    /// Reads member `member` (index within this file) for `times`, writing Float32 kelvin in
    /// program order (time, lat, lon) to `out` (count `times.count × cellCount`).
    /// Missing values become NaN. Returns the number of missing values.
    /// - Throws: `CFError` naming the member, date and cell of the first missing value when
    ///   `requirements.completeFields`, or of the first value outside the plausible range.
    ///
    /// Data are read in blocks of whole time steps (at most about 2²² values at a time), so
    /// the temporary Double buffer stays small whatever the length of the series.
    @discardableResult
    func read(from file: NetCDFFile, member: Int, times: Range<Int>, into out: UnsafeMutableBufferPointer<Float>,
              requirements: InputRequirements) throws -> Int {
        guard let v = try file.variable(variable.name) else {
            throw CFError(file: path, variable: variable.name, "variable disappeared")
        }
        guard out.count == times.count * cellCount else {
            throw CFError(file: path, variable: variable.name, "output buffer holds \(out.count) values, need \(times.count * cellCount)")
        }
        guard times.lowerBound >= 0, times.upperBound <= time.count else {
            throw CFError(file: path, variable: variable.name, "time range \(times) outside 0..<\(time.count)")
        }
        guard member >= 0, member < members.count else {
            throw CFError(file: path, variable: variable.name, "member \(member) outside 0..<\(members.count)")
        }
        let ny = grid.latitudeCount, nx = grid.longitudeCount
        let blockSteps = max(1, min(times.count, (1 << 22) / max(cellCount, 1)))
        var raw = [Double](repeating: 0, count: blockSteps * cellCount)
        var missingCount = 0
        let lo = validMin, hi = validMax, scale = self.scale, offset = self.offset, unit = self.unit
        // Usually one or two missing-value codes: compare those directly (NaN never matches).
        let m0 = missingValues.first ?? .nan, m1 = missingValues.count > 1 ? missingValues[1] : .nan
        let moreMissing = Array(missingValues.dropFirst(2))
        let identity = scale == 1 && offset == 0 && unit == .kelvin
        let plausible = requirements.plausibleRange, complete = requirements.completeFields
        func place(_ t: Int, _ j: Int, _ i: Int) -> String {
            String(format: "member %@, %@, lat %g, lon %g", members[member], time.date(at: t).dateString,
                   grid.latitudes[j], grid.longitudes[i])
        }
        var t0 = times.lowerBound
        while t0 < times.upperBound {
            let nt = min(blockSteps, times.upperBound - t0)
            let (start, count, st, sy, sx) = FieldBlock.hyperslab(rank: fileShape.count, timeAxis: timeAxis, latitudeAxis: latitudeAxis,
                                                                 longitudeAxis: longitudeAxis, memberAxis: memberAxis, member: member,
                                                                 timeStart: t0, timeCount: nt, rows: ny, columns: nx)
            try raw.withUnsafeMutableBufferPointer { buffer in
                let slab = UnsafeMutableBufferPointer(rebasing: buffer[0..<(nt * cellCount)])
                try v.read(start: start, count: count, into: slab)
            }
            let base = (t0 - times.lowerBound) * cellCount
            for t in 0..<nt {
                for j in 0..<ny {
                    let rowSource = t * st + latitudeSource[j] * sy
                    let rowTarget = base + (t * ny + j) * nx
                    for i in 0..<nx {
                        let r = raw[rowSource + longitudeSource[i] * sx]
                        if r.isNaN || r < lo || r > hi || r == m0 || r == m1 || (!moreMissing.isEmpty && moreMissing.contains(r)) {
                            guard !complete else {
                                throw CFError(file: path, variable: variable.name,
                                              "missing values (NaN, _FillValue or outside valid_range), first at \(place(t0 + t, j, i)); this command needs complete fields: fill them (e.g. cdo fillmiss) or choose other members or years")
                            }
                            out[rowTarget + i] = .nan
                            missingCount += 1
                        } else {
                            let unpacked = r * scale + offset
                            let kelvin = identity ? r : unit.toKelvin(unpacked)
                            guard plausible.contains(kelvin) else {
                                let asRead = unit == .kelvin ? "" : String(format: " (%g %@ in the file)", unpacked, sourceUnits)
                                throw CFError(file: path, variable: variable.name, String(
                                    format: "value %g K%@ at %@ is outside the plausible range %g–%g K for near-surface temperature; check the units attribute and the fill value",
                                    kelvin, asRead, place(t0 + t, j, i), plausible.lowerBound, plausible.upperBound))
                            }
                            out[rowTarget + i] = Float(kelvin)
                        }
                    }
                }
            }
            t0 += nt
        }
        return missingCount
    }
}
