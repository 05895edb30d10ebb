import Foundation
import XCTest
@testable import NetCDF

final class NetCDFErrorTests: TemporaryDirectoryTestCase {
    func testMissingFileNamesPathAndReason() {
        let p = path("does-not-exist.nc")
        XCTAssertThrowsError(try NetCDFFile.open(p)) { error in
            let e = error as? NetCDFError
            XCTAssertEqual(e?.path, p)
            XCTAssertNil(e?.variable)
            XCTAssertEqual("\(error)", "\(p): cannot open: No such file or directory")
        }
    }

    func testTextFileIsNotNetCDF() throws {
        let p = path("notes.nc")
        try "just some text\n".write(toFile: p, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try NetCDFFile.open(p)) { error in
            XCTAssertEqual("\(error)", "\(p): cannot open: NetCDF: Unknown file format")
            XCTAssertEqual((error as? NetCDFError)?.status, -51)
        }
    }

    func testTruncatedFileFailsCleanly() throws {
        let good = path("good.nc"), bad = path("truncated.nc")
        let f = try NetCDFFile.create(good)
        let n = try f.addDimension("n", length: 50_000)
        let v = try f.addVariable("v", type: .double, dimensions: [n])
        try v.write((0..<50_000).map(Double.init))
        try f.close()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: bad))
        // Either opening or reading must fail with an error naming the file.
        XCTAssertThrowsError(try NetCDFFile.withFile(bad) { g in _ = try g.variable("v")?.read(Double.self) }) { error in
            XCTAssertTrue("\(error)".hasPrefix(bad), "\(error)")
        }
    }

    func testHyperslabMistakesAreErrorsNamingTheVariable() throws {
        let p = path("h.nc")
        let f = try NetCDFFile.create(p)
        let n = try f.addDimension("n", length: 4)
        let v = try f.addVariable("temperature", type: .float, dimensions: [n])
        XCTAssertThrowsError(try v.write([Float(1), 2, 3])) { error in
            XCTAssertEqual("\(error)", "\(p): temperature: 3 values given, hyperslab [4] needs 4")
        }
        XCTAssertThrowsError(try v.write([Float(1)], start: [0, 0], count: [1, 1])) { error in
            XCTAssertTrue("\(error)".contains("do not match the variable's 1 dimensions"), "\(error)")
        }
        try v.write([Float(1), 2, 3, 4])
        XCTAssertThrowsError(try v.read(Float.self, start: [3], count: [2])) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(p): temperature: cannot read data"), "\(error)")
            XCTAssertTrue("\(error)".contains("NetCDF: Start+count exceeds dimension bound"), "\(error)")
        }
        XCTAssertThrowsError(try v.read(Float.self, start: [-1], count: [1]))
        XCTAssertThrowsError(try v.setCompression(deflateLevel: 12, shuffle: false)) { error in
            XCTAssertEqual("\(error)", "\(p): temperature: deflate level must be 0…9, got 12")
        }
        XCTAssertThrowsError(try f.addDimension("n", length: 3)) { error in
            XCTAssertTrue("\(error)".contains("dimension n: cannot define dimension: NetCDF: String match to name in use"), "\(error)")
        }
        XCTAssertThrowsError(try f.addDimension("zero", length: 0))
        try f.close()
        XCTAssertThrowsError(try v.read(Float.self)) { error in
            XCTAssertEqual("\(error)", "\(p): temperature: file is closed")
        }
    }

    func testReadOnlyAndNoClobber() throws {
        let p = path("ro.nc")
        try NetCDFFile.create(p).close()
        XCTAssertThrowsError(try NetCDFFile.create(p)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(p): cannot create: NetCDF: File exists"), "\(error)")
        }
        XCTAssertNoThrow(try NetCDFFile.create(p, overwrite: true).close())
        let f = try NetCDFFile.open(p)
        XCTAssertThrowsError(try f.setAttribute("x", "y")) { error in
            XCTAssertEqual("\(error)", "\(p): file is open read-only")
        }
        try f.close()
        // Opened for writing, new content can be added.
        try NetCDFFile.withFile(p, mode: .write) { g in try g.setAttribute("x", "y") }
        XCTAssertEqual(try NetCDFFile.withFile(p) { try $0.attribute("x") }, .text("y"))
    }
}
