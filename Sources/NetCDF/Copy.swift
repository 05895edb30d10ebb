import CNetCDF

extension NetCDFFile {
    /// Copies the global attributes of `source`, in its order, with their netCDF types.
    public func copyGlobalAttributes(from source: NetCDFFile) throws {
        try enterDefineMode()
        for name in try source.attributeNames() {
            try check(nc_copy_att(source.ncid, NC_GLOBAL, name, ncid, NC_GLOBAL), path: path,
                      variable: "global attribute \(name)", "cannot copy from \(source.path)")
        }
    }

    /// Copies every attribute of `variable` (another file's) onto `target`, with their types.
    public func copyAttributes(of variable: Variable, to target: Variable) throws {
        try enterDefineMode(target.name)
        for name in try variable.attributeNames() {
            try check(nc_copy_att(variable.file.ncid, variable.id, name, ncid, target.id), path: path,
                      variable: target.name, "cannot copy attribute \(name) from \(variable.file.path)")
        }
    }

    /// Defines a copy of `variable` (another file's) over this file's dimensions of the same
    /// names, with its type, attributes and deflate settings, and writes its values; along the
    /// dimensions named in `selecting` only the given indices (in that order) are kept.
    /// Numeric and character variables; `string` variables are refused.
    @discardableResult
    public func copyVariable(_ variable: Variable, selecting: [String: [Int]] = [:]) throws -> Variable {
        guard variable.dataType != .string, case let size = try elementSize(variable), size > 0 else {
            throw NetCDFError(path: variable.file.path, variable: variable.name, message: "variables of type \(variable.dataType) cannot be copied")
        }
        let dims = try variable.dimensions.map { d -> Dimension in
            guard let own = try dimension(d.name) else {
                throw NetCDFError(path: path, variable: variable.name, message: "dimension \(d.name) is not defined")
            }
            return own
        }
        let copy = try addVariable(variable.name, type: variable.dataType, dimensions: dims)
        try copyAttributes(of: variable, to: copy)
        let (level, shuffle) = try variable.compression()
        if let level, !dims.isEmpty { try copy.setCompression(deflateLevel: level, shuffle: shuffle) }

        let shape = try variable.shape()
        let count = shape.reduce(1, *)
        guard count > 0 else { return copy }
        var raw = [UInt8](repeating: 0, count: count * size)
        try enterDataMode(variable.name)
        try raw.withUnsafeMutableBytes { buffer in
            try check(nc_get_var(variable.file.ncid, variable.id, buffer.baseAddress), path: variable.file.path,
                      variable: variable.name, "cannot read data")
        }
        // Indices kept along each dimension.
        let kept = try variable.dimensions.enumerated().map { k, d -> [Int] in
            guard let selection = selecting[d.name] else { return Array(0..<shape[k]) }
            guard selection.allSatisfy({ (0..<shape[k]).contains($0) }) else {
                throw NetCDFError(path: variable.file.path, variable: variable.name, message: "selection outside dimension \(d.name) of length \(shape[k])")
            }
            return selection
        }
        let outShape = kept.map(\.count)
        let outCount = outShape.reduce(1, *)
        var gathered = raw
        if outShape != shape {
            gathered = [UInt8](repeating: 0, count: outCount * size)
            var strides = [Int](repeating: size, count: shape.count)
            for k in stride(from: shape.count - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * shape[k + 1] }
            var index = [Int](repeating: 0, count: shape.count)
            for n in 0..<outCount {
                var offset = 0
                for k in 0..<shape.count { offset += kept[k][index[k]] * strides[k] }
                for b in 0..<size { gathered[n * size + b] = raw[offset + b] }
                var k = shape.count - 1
                while k >= 0 {
                    index[k] += 1
                    if index[k] < outShape[k] { break }
                    index[k] = 0
                    k -= 1
                }
            }
        }
        guard outCount > 0 else { return copy }
        let start = [Int](repeating: 0, count: outShape.count)
        try gathered.withUnsafeBytes { buffer in
            try check(nc_put_vara(ncid, copy.id, start, outShape, buffer.baseAddress), path: path,
                      variable: variable.name, "cannot write data")
        }
        return copy
    }

    private func elementSize(_ variable: Variable) throws -> Int {
        var size = 0
        try check(nc_inq_type(variable.file.ncid, variable.dataType.code, nil, &size), path: variable.file.path,
                  variable: variable.name, "cannot inquire type")
        return size
    }
}
