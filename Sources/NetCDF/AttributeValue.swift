import CNetCDF
import Foundation

/// The value of a netCDF attribute: text, or a vector of one numeric type.
///
/// Numeric attributes keep their type (a `short` `_FillValue` stays `.int16`), so copying an
/// attribute from one file to another preserves it exactly.
public enum AttributeValue: Equatable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// A `char` attribute (the usual CF text attribute).
    case text(String)
    /// An `NC_STRING` attribute (NetCDF-4 only).
    case strings([String])
    case int8([Int8]), uint8([UInt8]), int16([Int16]), uint16([UInt16])
    case int32([Int32]), uint32([UInt32]), int64([Int64]), uint64([UInt64])
    case float([Float]), double([Double])

    public init(stringLiteral value: String) { self = .text(value) }

    /// The netCDF type of the attribute.
    public var dataType: DataType {
        switch self {
        case .text: return .char
        case .strings: return .string
        case .int8: return .int8
        case .uint8: return .uint8
        case .int16: return .int16
        case .uint16: return .uint16
        case .int32: return .int32
        case .uint32: return .uint32
        case .int64: return .int64
        case .uint64: return .uint64
        case .float: return .float
        case .double: return .double
        }
    }

    /// The text of a `char` attribute, or of a string attribute (joined with newlines when
    /// there are several); nil for numeric attributes.
    public var text: String? {
        switch self {
        case .text(let s): return s
        case .strings(let s): return s.joined(separator: "\n")
        default: return nil
        }
    }

    /// Numeric values converted to Double; nil for text attributes.
    public var doubles: [Double]? {
        switch self {
        case .text, .strings: return nil
        case .int8(let v): return v.map(Double.init)
        case .uint8(let v): return v.map(Double.init)
        case .int16(let v): return v.map(Double.init)
        case .uint16(let v): return v.map(Double.init)
        case .int32(let v): return v.map(Double.init)
        case .uint32(let v): return v.map(Double.init)
        case .int64(let v): return v.map(Double.init)
        case .uint64(let v): return v.map { Double($0) }  // not `Double.init`: that picks init(bitPattern:) for UInt64
        case .float(let v): return v.map(Double.init)
        case .double(let v): return v
        }
    }

    /// The single numeric value of a one-element numeric attribute, as Double.
    public var scalar: Double? {
        guard let d = doubles, d.count == 1 else { return nil }
        return d[0]
    }

    /// CDL-like rendering: `"text"` or `1, 2, 3`.
    public var description: String {
        if let t = text { return "\"\(t)\"" }
        return (doubles ?? []).map { "\($0)" }.joined(separator: ", ")
    }
}

/// Attribute access for one variable id (or `NC_GLOBAL`) of an open file.
struct AttributeIO {
    let ncid: Int32
    let varid: Int32
    let path: String
    /// Label used in error messages ("tas", or "global attributes").
    let owner: String?

    func names() throws -> [String] {
        var count: Int32 = 0
        if varid == NC_GLOBAL {
            try check(nc_inq_natts(ncid, &count), path: path, variable: owner, "cannot count attributes")
        } else {
            try check(nc_inq_varnatts(ncid, varid, &count), path: path, variable: owner, "cannot count attributes")
        }
        var result: [String] = []
        for i in 0..<count {
            var buffer = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
            try check(nc_inq_attname(ncid, varid, i, &buffer), path: path, variable: owner, "cannot read attribute name")
            result.append(cString(buffer))
        }
        return result
    }

    /// The attribute's value, or nil when it does not exist.
    func get(_ name: String) throws -> AttributeValue? {
        var type: nc_type = 0
        var length = 0
        let status = nc_inq_att(ncid, varid, name, &type, &length)
        if status == NC_ENOTATT { return nil }
        try check(status, path: path, variable: owner, "cannot inquire attribute '\(name)'")
        let what = "cannot read attribute '\(name)'"
        func numeric<T: NetCDFScalar>(_: T.Type) throws -> [T] {
            guard let (s, v) = TypedIO.getAtt(ncid, varid, name, length: length) as (Int32, [T])? else {
                throw NetCDFError(path: path, variable: owner, message: "\(what): unsupported type")
            }
            try check(s, path: path, variable: owner, what)
            return v
        }
        switch DataType(code: type) {
        case .char:
            var bytes = [CChar](repeating: 0, count: length + 1)
            try check(nc_get_att_text(ncid, varid, name, &bytes), path: path, variable: owner, what)
            let utf8 = bytes.prefix(length).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return .text(String(decoding: utf8, as: UTF8.self))
        case .string:
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: max(length, 1))
            try check(nc_get_att_string(ncid, varid, name, &pointers), path: path, variable: owner, what)
            defer { nc_free_string(length, &pointers) }
            return .strings(pointers.prefix(length).map { $0.map { String(cString: $0) } ?? "" })
        case .int8: return .int8(try numeric(Int8.self))
        case .uint8: return .uint8(try numeric(UInt8.self))
        case .int16: return .int16(try numeric(Int16.self))
        case .uint16: return .uint16(try numeric(UInt16.self))
        case .int32: return .int32(try numeric(Int32.self))
        case .uint32: return .uint32(try numeric(UInt32.self))
        case .int64: return .int64(try numeric(Int64.self))
        case .uint64: return .uint64(try numeric(UInt64.self))
        case .float: return .float(try numeric(Float.self))
        case .double: return .double(try numeric(Double.self))
        case .userDefined(let c):
            throw NetCDFError(path: path, variable: owner, message: "\(what): user-defined type \(c) is not supported")
        }
    }

    func put(_ name: String, _ value: AttributeValue) throws {
        let what = "cannot write attribute '\(name)'"
        let status: Int32?
        switch value {
        case .text(let s):
            let bytes = Array(s.utf8)
            status = bytes.withUnsafeBufferPointer { b in
                b.baseAddress.map { p in
                    p.withMemoryRebound(to: CChar.self, capacity: b.count) { nc_put_att_text(ncid, varid, name, b.count, $0) }
                } ?? nc_put_att_text(ncid, varid, name, 0, "")
            }
        case .strings(let list):
            let cStrings = list.map { strdup($0) }
            defer { cStrings.forEach { free($0) } }
            var constPointers = cStrings.map { $0.map { UnsafePointer<CChar>($0) } }
            status = nc_put_att_string(ncid, varid, name, list.count, &constPointers)
        case .int8(let v): status = TypedIO.putAtt(ncid, varid, name, v)
        case .uint8(let v): status = TypedIO.putAtt(ncid, varid, name, v)
        case .int16(let v): status = TypedIO.putAtt(ncid, varid, name, v)
        case .uint16(let v): status = TypedIO.putAtt(ncid, varid, name, v)
        case .int32(let v): status = TypedIO.putAtt(ncid, varid, name, v)
        case .uint32(let v): status = TypedIO.putAtt(ncid, varid, name, v)
        case .int64(let v): status = TypedIO.putAtt(ncid, varid, name, v)
        case .uint64(let v): status = TypedIO.putAtt(ncid, varid, name, v)
        case .float(let v): status = TypedIO.putAtt(ncid, varid, name, v)
        case .double(let v): status = TypedIO.putAtt(ncid, varid, name, v)
        }
        guard let s = status else { throw NetCDFError(path: path, variable: owner, message: "\(what): unsupported type") }
        try check(s, path: path, variable: owner, what)
    }

    func delete(_ name: String) throws {
        try check(nc_del_att(ncid, varid, name), path: path, variable: owner, "cannot delete attribute '\(name)'")
    }
}
