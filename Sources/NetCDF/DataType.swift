import CNetCDF

/// A netCDF external data type.
public enum DataType: Equatable, Hashable, Sendable, CustomStringConvertible {
    case int8, uint8, char, int16, uint16, int32, uint32, int64, uint64, float, double, string
    /// A user-defined (compound, vlen, enum, opaque) type, not supported for typed access.
    case userDefined(Int32)

    /// The netCDF type code (`NC_FLOAT` …).
    public var code: Int32 {
        switch self {
        case .int8: return NC_BYTE
        case .uint8: return NC_UBYTE
        case .char: return NC_CHAR
        case .int16: return NC_SHORT
        case .uint16: return NC_USHORT
        case .int32: return NC_INT
        case .uint32: return NC_UINT
        case .int64: return NC_INT64
        case .uint64: return NC_UINT64
        case .float: return NC_FLOAT
        case .double: return NC_DOUBLE
        case .string: return NC_STRING
        case .userDefined(let c): return c
        }
    }

    public init(code: Int32) {
        switch code {
        case NC_BYTE: self = .int8
        case NC_UBYTE: self = .uint8
        case NC_CHAR: self = .char
        case NC_SHORT: self = .int16
        case NC_USHORT: self = .uint16
        case NC_INT: self = .int32
        case NC_UINT: self = .uint32
        case NC_INT64: self = .int64
        case NC_UINT64: self = .uint64
        case NC_FLOAT: self = .float
        case NC_DOUBLE: self = .double
        case NC_STRING: self = .string
        default: self = .userDefined(code)
        }
    }

    /// True for the ten numeric types.
    public var isNumeric: Bool {
        switch self {
        case .char, .string, .userDefined: return false
        default: return true
        }
    }

    /// CDL name (`float`, `short`, `ubyte` …).
    public var description: String {
        switch self {
        case .int8: return "byte"
        case .uint8: return "ubyte"
        case .char: return "char"
        case .int16: return "short"
        case .uint16: return "ushort"
        case .int32: return "int"
        case .uint32: return "uint"
        case .int64: return "int64"
        case .uint64: return "uint64"
        case .float: return "float"
        case .double: return "double"
        case .string: return "string"
        case .userDefined(let c): return "user-defined type \(c)"
        }
    }
}

/// A Swift number type that maps to one netCDF numeric type. Reads and writes convert between
/// the variable's type in the file and the Swift type (netcdf-c's conversion rules; a value out
/// of the target range is an error, `NC_ERANGE`).
///
/// Conforming types: `Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float, Double`.
public protocol NetCDFScalar: Numeric, Sendable {
    /// The netCDF type that holds this Swift type without loss.
    static var netCDFType: DataType { get }
}

extension Int8: NetCDFScalar { public static var netCDFType: DataType { .int8 } }
extension UInt8: NetCDFScalar { public static var netCDFType: DataType { .uint8 } }
extension Int16: NetCDFScalar { public static var netCDFType: DataType { .int16 } }
extension UInt16: NetCDFScalar { public static var netCDFType: DataType { .uint16 } }
extension Int32: NetCDFScalar { public static var netCDFType: DataType { .int32 } }
extension UInt32: NetCDFScalar { public static var netCDFType: DataType { .uint32 } }
extension Int64: NetCDFScalar { public static var netCDFType: DataType { .int64 } }
extension UInt64: NetCDFScalar { public static var netCDFType: DataType { .uint64 } }
extension Float: NetCDFScalar { public static var netCDFType: DataType { .float } }
extension Double: NetCDFScalar { public static var netCDFType: DataType { .double } }
