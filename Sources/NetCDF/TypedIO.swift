import CNetCDF

/// Dispatch from a generic `NetCDFScalar` to netcdf-c's typed functions. Each function returns
/// nil when `T` is not one of the ten supported Swift types (a user conformance).
enum TypedIO {
    static func getVara<T: NetCDFScalar>(_ ncid: Int32, _ varid: Int32, _ start: UnsafePointer<Int>,
                                         _ count: UnsafePointer<Int>, _ out: UnsafeMutablePointer<T>) -> Int32? {
        let p = UnsafeMutableRawPointer(out)
        switch ObjectIdentifier(T.self) {
        case ObjectIdentifier(Float.self): return nc_get_vara_float(ncid, varid, start, count, p.assumingMemoryBound(to: Float.self))
        case ObjectIdentifier(Double.self): return nc_get_vara_double(ncid, varid, start, count, p.assumingMemoryBound(to: Double.self))
        case ObjectIdentifier(Int8.self): return nc_get_vara_schar(ncid, varid, start, count, p.assumingMemoryBound(to: Int8.self))
        case ObjectIdentifier(UInt8.self): return nc_get_vara_uchar(ncid, varid, start, count, p.assumingMemoryBound(to: UInt8.self))
        case ObjectIdentifier(Int16.self): return nc_get_vara_short(ncid, varid, start, count, p.assumingMemoryBound(to: Int16.self))
        case ObjectIdentifier(UInt16.self): return nc_get_vara_ushort(ncid, varid, start, count, p.assumingMemoryBound(to: UInt16.self))
        case ObjectIdentifier(Int32.self): return nc_get_vara_int(ncid, varid, start, count, p.assumingMemoryBound(to: Int32.self))
        case ObjectIdentifier(UInt32.self): return nc_get_vara_uint(ncid, varid, start, count, p.assumingMemoryBound(to: UInt32.self))
        case ObjectIdentifier(Int64.self): return nc_get_vara_longlong(ncid, varid, start, count, p.assumingMemoryBound(to: Int64.self))
        case ObjectIdentifier(UInt64.self): return nc_get_vara_ulonglong(ncid, varid, start, count, p.assumingMemoryBound(to: UInt64.self))
        default: return nil
        }
    }

    static func putVara<T: NetCDFScalar>(_ ncid: Int32, _ varid: Int32, _ start: UnsafePointer<Int>,
                                         _ count: UnsafePointer<Int>, _ values: UnsafePointer<T>) -> Int32? {
        let p = UnsafeRawPointer(values)
        switch ObjectIdentifier(T.self) {
        case ObjectIdentifier(Float.self): return nc_put_vara_float(ncid, varid, start, count, p.assumingMemoryBound(to: Float.self))
        case ObjectIdentifier(Double.self): return nc_put_vara_double(ncid, varid, start, count, p.assumingMemoryBound(to: Double.self))
        case ObjectIdentifier(Int8.self): return nc_put_vara_schar(ncid, varid, start, count, p.assumingMemoryBound(to: Int8.self))
        case ObjectIdentifier(UInt8.self): return nc_put_vara_uchar(ncid, varid, start, count, p.assumingMemoryBound(to: UInt8.self))
        case ObjectIdentifier(Int16.self): return nc_put_vara_short(ncid, varid, start, count, p.assumingMemoryBound(to: Int16.self))
        case ObjectIdentifier(UInt16.self): return nc_put_vara_ushort(ncid, varid, start, count, p.assumingMemoryBound(to: UInt16.self))
        case ObjectIdentifier(Int32.self): return nc_put_vara_int(ncid, varid, start, count, p.assumingMemoryBound(to: Int32.self))
        case ObjectIdentifier(UInt32.self): return nc_put_vara_uint(ncid, varid, start, count, p.assumingMemoryBound(to: UInt32.self))
        case ObjectIdentifier(Int64.self): return nc_put_vara_longlong(ncid, varid, start, count, p.assumingMemoryBound(to: Int64.self))
        case ObjectIdentifier(UInt64.self): return nc_put_vara_ulonglong(ncid, varid, start, count, p.assumingMemoryBound(to: UInt64.self))
        default: return nil
        }
    }

    /// Reads a numeric attribute of `length` values, converting to `T`.
    static func getAtt<T: NetCDFScalar>(_ ncid: Int32, _ varid: Int32, _ name: String, length: Int) -> (Int32, [T])? {
        var status: Int32? = NC_NOERR
        let values = [T](unsafeUninitializedCapacity: max(length, 1)) { buffer, initialized in
            // Capacity is at least 1, so the base address exists.
            guard let base = buffer.baseAddress else { status = NC_ENOMEM; initialized = 0; return }
            let p = UnsafeMutableRawPointer(base)
            switch ObjectIdentifier(T.self) {
            case ObjectIdentifier(Float.self): status = nc_get_att_float(ncid, varid, name, p.assumingMemoryBound(to: Float.self))
            case ObjectIdentifier(Double.self): status = nc_get_att_double(ncid, varid, name, p.assumingMemoryBound(to: Double.self))
            case ObjectIdentifier(Int8.self): status = nc_get_att_schar(ncid, varid, name, p.assumingMemoryBound(to: Int8.self))
            case ObjectIdentifier(UInt8.self): status = nc_get_att_uchar(ncid, varid, name, p.assumingMemoryBound(to: UInt8.self))
            case ObjectIdentifier(Int16.self): status = nc_get_att_short(ncid, varid, name, p.assumingMemoryBound(to: Int16.self))
            case ObjectIdentifier(UInt16.self): status = nc_get_att_ushort(ncid, varid, name, p.assumingMemoryBound(to: UInt16.self))
            case ObjectIdentifier(Int32.self): status = nc_get_att_int(ncid, varid, name, p.assumingMemoryBound(to: Int32.self))
            case ObjectIdentifier(UInt32.self): status = nc_get_att_uint(ncid, varid, name, p.assumingMemoryBound(to: UInt32.self))
            case ObjectIdentifier(Int64.self): status = nc_get_att_longlong(ncid, varid, name, p.assumingMemoryBound(to: Int64.self))
            case ObjectIdentifier(UInt64.self): status = nc_get_att_ulonglong(ncid, varid, name, p.assumingMemoryBound(to: UInt64.self))
            default: status = nil
            }
            // Zero-fill on failure so the array is always fully initialised.
            if status != NC_NOERR { for i in 0..<buffer.count { buffer[i] = .zero } }
            initialized = status == NC_NOERR ? length : 0
        }
        guard let s = status else { return nil }
        return (s, values)
    }

    /// Writes a numeric attribute with the netCDF type of `T`.
    static func putAtt<T: NetCDFScalar>(_ ncid: Int32, _ varid: Int32, _ name: String, _ values: [T]) -> Int32? {
        let type = T.netCDFType.code
        return values.withUnsafeBufferPointer { buffer -> Int32? in
            // A zero-length attribute still needs a valid pointer.
            var dummy = T.zero
            return withUnsafePointer(to: &dummy) { dummyPointer -> Int32? in
                let p = UnsafeRawPointer(buffer.baseAddress ?? dummyPointer)
                let n = values.count
                switch ObjectIdentifier(T.self) {
                case ObjectIdentifier(Float.self): return nc_put_att_float(ncid, varid, name, type, n, p.assumingMemoryBound(to: Float.self))
                case ObjectIdentifier(Double.self): return nc_put_att_double(ncid, varid, name, type, n, p.assumingMemoryBound(to: Double.self))
                case ObjectIdentifier(Int8.self): return nc_put_att_schar(ncid, varid, name, type, n, p.assumingMemoryBound(to: Int8.self))
                case ObjectIdentifier(UInt8.self): return nc_put_att_uchar(ncid, varid, name, type, n, p.assumingMemoryBound(to: UInt8.self))
                case ObjectIdentifier(Int16.self): return nc_put_att_short(ncid, varid, name, type, n, p.assumingMemoryBound(to: Int16.self))
                case ObjectIdentifier(UInt16.self): return nc_put_att_ushort(ncid, varid, name, type, n, p.assumingMemoryBound(to: UInt16.self))
                case ObjectIdentifier(Int32.self): return nc_put_att_int(ncid, varid, name, type, n, p.assumingMemoryBound(to: Int32.self))
                case ObjectIdentifier(UInt32.self): return nc_put_att_uint(ncid, varid, name, type, n, p.assumingMemoryBound(to: UInt32.self))
                case ObjectIdentifier(Int64.self): return nc_put_att_longlong(ncid, varid, name, type, n, p.assumingMemoryBound(to: Int64.self))
                case ObjectIdentifier(UInt64.self): return nc_put_att_ulonglong(ncid, varid, name, type, n, p.assumingMemoryBound(to: UInt64.self))
                default: return nil
                }
            }
        }
    }
}
