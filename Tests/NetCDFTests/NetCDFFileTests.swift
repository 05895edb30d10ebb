import Foundation
import XCTest
import TestEnvironment
@testable import NetCDF

/// A fresh temporary directory removed at the end of each test.
class TemporaryDirectoryTestCase: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("netcdf-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

final class NetCDFFileTests: TemporaryDirectoryTestCase {
    /// Every numeric type survives a write/read round trip unchanged, whole and by hyperslab.
    func testEveryNumericTypeRoundTrips() throws {
        let p = path("types.nc")
        let f = try NetCDFFile.create(p, format: .netCDF4)
        let x = try f.addDimension("x", length: 6)
        let i8 = try f.addVariable("i8", type: .int8, dimensions: [x])
        let u8 = try f.addVariable("u8", type: .uint8, dimensions: [x])
        let i16 = try f.addVariable("i16", type: .int16, dimensions: [x])
        let u16 = try f.addVariable("u16", type: .uint16, dimensions: [x])
        let i32 = try f.addVariable("i32", type: .int32, dimensions: [x])
        let u32 = try f.addVariable("u32", type: .uint32, dimensions: [x])
        let i64 = try f.addVariable("i64", type: .int64, dimensions: [x])
        let u64 = try f.addVariable("u64", type: .uint64, dimensions: [x])
        let f32 = try f.addVariable("f32", type: .float, dimensions: [x])
        let f64 = try f.addVariable("f64", type: .double, dimensions: [x])
        try i8.write([Int8.min, -1, 0, 1, 2, .max])
        try u8.write([0, 1, 2, 3, 254, UInt8.max])
        try i16.write([Int16.min, -300, 0, 1, 300, .max])
        try u16.write([0, 1, 2, 3, 60000, UInt16.max])
        try i32.write([Int32.min, -70000, 0, 1, 70000, .max])
        try u32.write([0, 1, 2, 3, 4_000_000_000, UInt32.max])
        try i64.write([Int64.min, -1, 0, 1, 1 << 40, .max])
        try u64.write([0, 1, 2, 3, 1 << 63, UInt64.max])
        try f32.write([-Float.greatestFiniteMagnitude, -1.5, 0, .leastNonzeroMagnitude, 3.25, .nan])
        try f64.write([-Double.greatestFiniteMagnitude, -1.5, 0, .leastNonzeroMagnitude, 3.25, .infinity])
        try f.close()

        try NetCDFFile.withFile(p) { g in
            XCTAssertEqual(g.format, .netCDF4)
            XCTAssertEqual(try g.variable("i8")?.read(Int8.self), [Int8.min, -1, 0, 1, 2, .max])
            XCTAssertEqual(try g.variable("u8")?.read(UInt8.self), [0, 1, 2, 3, 254, UInt8.max])
            XCTAssertEqual(try g.variable("i16")?.read(Int16.self), [Int16.min, -300, 0, 1, 300, .max])
            XCTAssertEqual(try g.variable("u16")?.read(UInt16.self), [0, 1, 2, 3, 60000, UInt16.max])
            XCTAssertEqual(try g.variable("i32")?.read(Int32.self), [Int32.min, -70000, 0, 1, 70000, .max])
            XCTAssertEqual(try g.variable("u32")?.read(UInt32.self), [0, 1, 2, 3, 4_000_000_000, UInt32.max])
            XCTAssertEqual(try g.variable("i64")?.read(Int64.self), [Int64.min, -1, 0, 1, 1 << 40, .max])
            XCTAssertEqual(try g.variable("u64")?.read(UInt64.self), [0, 1, 2, 3, 1 << 63, UInt64.max])
            let floats = try XCTUnwrap(g.variable("f32")).read(Float.self)
            XCTAssertEqual(Array(floats.prefix(5)), [-Float.greatestFiniteMagnitude, -1.5, 0, .leastNonzeroMagnitude, 3.25])
            XCTAssertTrue(floats[5].isNaN)
            XCTAssertEqual(try g.variable("f64")?.read(Double.self),
                           [-Double.greatestFiniteMagnitude, -1.5, 0, .leastNonzeroMagnitude, 3.25, .infinity])
            // Type conversion on read: short → double, and hyperslab.
            XCTAssertEqual(try g.variable("i16")?.read(Double.self, start: [2], count: [3]), [0, 1, 300])
            XCTAssertEqual(try g.variable("f64")?.dataType, .double)
            // Out of range conversion is an error, not silent wrap-around.
            XCTAssertThrowsError(try g.variable("i32")?.read(Int8.self)) { error in
                XCTAssertTrue("\(error)".contains("i32"), "\(error)")
                XCTAssertTrue("\(error)".contains("Numeric conversion not representable"), "\(error)")
            }
        }
    }

    /// 3-D hyperslab writes with an unlimited dimension, then reads of arbitrary slabs,
    /// compared with a directly indexed reference.
    func testHyperslabsAndUnlimitedDimension() throws {
        let p = path("slabs.nc")
        let (nt, ny, nx) = (5, 3, 4)
        let reference: [Float] = (0..<(nt * ny * nx)).map { Float($0) * 0.5 - 7 }
        do {
            let f = try NetCDFFile.create(p)
            let t = try f.addDimension("time", length: nil)
            XCTAssertTrue(t.isUnlimited)
            let y = try f.addDimension("y", length: ny), x = try f.addDimension("x", length: nx)
            let v = try f.addVariable("v", type: .float, dimensions: [t, y, x])
            try v.setChunking([1, ny, nx])
            try v.setCompression(deflateLevel: 2, shuffle: true)
            for k in 0..<nt {   // one record at a time, as a streaming writer does
                try v.write(Array(reference[(k * ny * nx)..<((k + 1) * ny * nx)]), start: [k, 0, 0], count: [1, ny, nx])
            }
            XCTAssertEqual(try v.shape(), [nt, ny, nx])
            try f.close()
        }
        let f = try NetCDFFile.open(p)
        defer { try? f.close() }
        let v = try XCTUnwrap(f.variable("v"))
        XCTAssertEqual(try v.read(Float.self), reference)
        XCTAssertEqual(try v.chunking(), [1, ny, nx])
        let c = try v.compression()
        XCTAssertEqual(c.deflateLevel, 2)
        XCTAssertTrue(c.shuffle)
        let time = try XCTUnwrap(f.dimension("time"))
        XCTAssertTrue(time.isUnlimited)
        XCTAssertEqual(time.length, nt)
        XCTAssertFalse(try XCTUnwrap(f.dimension("x")).isUnlimited)
        // Slab t 1..<4, y 1..<3, x 2..<4.
        let slab = try v.read(Float.self, start: [1, 1, 2], count: [3, 2, 2])
        var expected: [Float] = []
        for k in 1..<4 { for j in 1..<3 { for i in 2..<4 { expected.append(reference[(k * ny + j) * nx + i]) } } }
        XCTAssertEqual(slab, expected)
        // Into a caller-owned buffer.
        var buffer = [Float](repeating: -1, count: ny * nx)
        try buffer.withUnsafeMutableBufferPointer { try v.read(start: [4, 0, 0], count: [1, ny, nx], into: $0) }
        XCTAssertEqual(buffer, Array(reference[(4 * ny * nx)...]))
    }

    /// Classic-format files need explicit define/data mode switches; the API does them.
    func testClassicFormatWithAutomaticDefineMode() throws {
        let p = path("classic.nc")
        let f = try NetCDFFile.create(p, format: .classic)
        let n = try f.addDimension("n", length: 3)
        let a = try f.addVariable("a", type: .double, dimensions: [n])
        try a.write([1.0, 2.0, 3.0])
        // Back into define mode after data were written.
        try a.setAttribute("units", "m")
        let b = try f.addVariable("b", type: .int32, dimensions: [n])
        try b.write([Int32(4), 5, 6])
        XCTAssertThrowsError(try b.setCompression(deflateLevel: 1, shuffle: true)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(p): b: cannot set compression"), "\(error)")
        }
        try f.close()
        try f.close()   // second close is harmless
        try NetCDFFile.withFile(p) { g in
            XCTAssertEqual(g.format, .classic)
            XCTAssertEqual(try g.variable("a")?.read(Double.self), [1, 2, 3])
            XCTAssertEqual(try g.variable("a")?.attribute("units"), .text("m"))
            XCTAssertEqual(try g.variable("b")?.read(Int32.self), [4, 5, 6])
            XCTAssertNil(try g.variable("b")?.chunking())
        }
    }

    func testAttributesOfEveryKind() throws {
        let p = path("attributes.nc")
        let f = try NetCDFFile.create(p)
        let n = try f.addDimension("n", length: 2)
        let v = try f.addVariable("v", type: .int16, dimensions: [n])
        let values: [(String, AttributeValue)] = [
            ("long_name", "Température de l’air"), ("empty", .text("")),
            ("_FillValue", .int16([-32767])), ("scale_factor", .float([0.01])), ("add_offset", .double([273.15])),
            ("valid_range", .int16([-1000, 1000])), ("flags", .uint8([0, 1, 10])), ("big", .int64([1 << 50])),
            ("u16", .uint16([7])), ("u32", .uint32([8])), ("u64", .uint64([9])), ("i8", .int8([-3])), ("i32", .int32([1, 2, 3])),
            ("names", .strings(["a", "bb"])),
        ]
        for (name, value) in values { try v.setAttribute(name, value) }
        try f.setAttribute("Conventions", "CF-1.8")
        try f.setAttribute("seed", .int64([42]))
        try v.write([Int16(1), 2])
        try f.setAttribute("late", "added after data")   // back to define mode
        try v.removeAttribute("empty")
        try f.close()

        try NetCDFFile.withFile(p) { g in
            let w = try XCTUnwrap(g.variable("v"))
            XCTAssertEqual(try w.attributeNames(), values.map(\.0).filter { $0 != "empty" })
            for (name, value) in values where name != "empty" { XCTAssertEqual(try w.attribute(name), value, name) }
            XCTAssertNil(try w.attribute("empty"))
            XCTAssertNil(try w.attribute("absent"))
            XCTAssertEqual(try w.attribute("scale_factor")?.scalar, Double(Float(0.01)))
            XCTAssertEqual(try w.attribute("valid_range")?.doubles, [-1000, 1000])
            XCTAssertNil(try w.attribute("valid_range")?.scalar)
            XCTAssertEqual(try g.attribute("Conventions")?.text, "CF-1.8")
            XCTAssertEqual(try g.attributes().map(\.name), ["Conventions", "seed", "late"])
            XCTAssertEqual(try g.attribute("seed"), .int64([42]))
        }
    }

    func testScalarAndCharVariablesFromCDL() throws {
        let cdl = """
        netcdf fixture {
        dimensions:
            n = 2 ; len = 5 ;
        variables:
            double height ;
                height:units = "m" ;
            char label(n, len) ;
        data:
            height = 2 ;
            label = "ab", "cde" ;
        }
        """
        let p = try ncgen(cdl, name: "fixture.nc")
        try NetCDFFile.withFile(p) { f in
            XCTAssertEqual(f.format, .classic)
            let h = try XCTUnwrap(f.variable("height"))
            XCTAssertEqual(h.rank, 0)
            XCTAssertEqual(try h.read(Double.self), [2])
            XCTAssertEqual(try h.count(), 1)
            XCTAssertEqual(try f.variable("label")?.readText(), ["ab", "cde"])
            XCTAssertThrowsError(try f.variable("label")?.read(Float.self))
            XCTAssertEqual(try f.variables().map(\.name), ["height", "label"])
            XCTAssertEqual(try f.dimensions().map(\.name), ["n", "len"])
        }
    }

    /// Runs `ncgen` on CDL text, returning the path of the netCDF file (skips if absent, fails in CI).
    func ncgen(_ cdl: String, name: String) throws -> String {
        let ncgen = try validatorTool("ncgen", debianPackage: "netcdf-bin")
        let cdlPath = path(name + ".cdl"), out = path(name)
        try cdl.write(toFile: cdlPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = ncgen
        process.arguments = ["-o", out, cdlPath]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "ncgen failed")
        return out
    }

    /// Every integer type converts by value (an unsigned 64-bit fill value once came back as
    /// the double with that bit pattern).
    func testNumericAttributesConvertByValue() {
        XCTAssertEqual(AttributeValue.uint64([5, 1 << 40]).doubles, [5, 1_099_511_627_776])
        XCTAssertEqual(AttributeValue.int64([-5]).doubles, [-5])
        XCTAssertEqual(AttributeValue.uint32([7]).doubles, [7])
    }
}
