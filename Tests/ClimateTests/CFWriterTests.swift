import Foundation
import TestEnvironment
import XCTest
import NetCDF
@testable import Climate

final class CFWriterTests: CFTestCase {
    /// A small ensemble with distinctive values, NaNs, bounds and a non-standard calendar.
    func sampleEnsemble(members: [String] = ["0", "1", "2"]) throws -> Ensemble {
        let grid = Grid.regular(latitudeCount: 4, longitudeCount: 6)
        var time = TimeAxis.monthly(startYear: 1850, endYear: 1850, calendar: .noLeap)
        time.values = Array(time.values.prefix(5))
        time.bounds = time.bounds.map { Array($0.prefix(5)) }
        let n = members.count * 5 * grid.cellCount
        var data = (0..<n).map { Float(250) + Float($0) * 0.013 + Float.ulpOfOne * Float($0 % 7) }
        data[3] = .nan
        data[n - 1] = .nan
        return try Ensemble(variable: .nearSurfaceAirTemperature, grid: grid, time: time, members: members, data: data)
    }

    func attributes() -> OutputAttributes {
        OutputAttributes(title: "test ensemble", institution: "nowhere", source: "EnsembleGen test",
                         history: OutputAttributes.historyLine(commandLine: ["ensemblegen", "test", "a b"]),
                         references: "arXiv:2407.02070",
                         extra: [("conditioning_member", .int32([0])), ("seed", .int64([42])),
                                 ("checkpoint_sha256", "00ff")])
    }

    /// Write then read gives identical values (bit for bit, NaN where NaN) and metadata.
    func testRoundTrip() throws {
        let e = try sampleEnsemble()
        let p = path("ens.nc")
        try EnsembleWriter.write(e, to: p, attributes: attributes(), storage: OutputStorage(deflateLevel: 2))
        XCTAssertEqual(try directoryContents(), ["ens.nc"])   // no .partial left
        let back = try EnsembleReader.read(paths: [p])
        XCTAssertEqual(back.variable, e.variable)
        XCTAssertEqual(back.grid, e.grid)
        XCTAssertEqual(back.time, e.time)
        XCTAssertEqual(back.members, e.members)
        XCTAssertEqual(back.data.count, e.data.count)
        for (a, b) in zip(back.data, e.data) {
            if b.isNaN { XCTAssertTrue(a.isNaN) } else { XCTAssertEqual(a.bitPattern, b.bitPattern) }
        }
    }

    /// The written file follows the CF output contract.
    func testOutputContract() throws {
        let e = try sampleEnsemble(members: ["r1i1p1f1", "r2i1p1f1", "r10i1p1f1"])
        let p = path("contract.nc")
        try EnsembleWriter.write(e, to: p, attributes: attributes(), storage: OutputStorage(deflateLevel: 3))
        try NetCDFFile.withFile(p) { f in
            XCTAssertEqual(f.format, .netCDF4)
            let tas = try XCTUnwrap(f.variable("tas"))
            XCTAssertEqual(tas.dimensionNames, ["time", "realization", "lat", "lon"])
            XCTAssertEqual(tas.dataType, .float)
            XCTAssertEqual(try tas.chunking(), [1, 1, 4, 6])
            XCTAssertEqual(try tas.compression().deflateLevel, 3)
            XCTAssertTrue(try tas.compression().shuffle)
            XCTAssertEqual(try tas.attribute("units"), "K")
            XCTAssertEqual(try tas.attribute("standard_name"), "air_temperature")
            XCTAssertEqual(try tas.attribute("cell_methods"), "time: mean")
            XCTAssertNil(try tas.attribute("coordinates"))
            XCTAssertEqual(try tas.attribute("_FillValue"), .float([1e20]))
            XCTAssertEqual(try f.variable("realization")?.read(Int32.self), [1, 2, 10])
            XCTAssertEqual(try f.variable("realization")?.attribute("standard_name"), "realization")
            XCTAssertEqual(try f.variable("realization")?.attribute("member_labels"), "r1i1p1f1 r2i1p1f1 r10i1p1f1")
            XCTAssertEqual(try f.variable("realization")?.attribute("units"), "1")
            let time = try XCTUnwrap(f.variable("time"))
            XCTAssertEqual(try time.attribute("units"), "days since 1850-01-01 00:00:00")
            XCTAssertEqual(try time.attribute("calendar"), "noleap")
            XCTAssertEqual(try time.attribute("bounds"), "time_bnds")
            XCTAssertEqual(try f.variable("time_bnds")?.read(Double.self), [0, 31, 31, 59, 59, 90, 90, 120, 120, 151])
            XCTAssertEqual(try f.variable("lat")?.attribute("axis"), "Y")
            XCTAssertEqual(try f.variable("lon")?.attribute("bounds"), "lon_bnds")
            XCTAssertEqual(try f.variable("lat_bnds")?.read(Double.self).prefix(2), [-90, -45])
            XCTAssertEqual(try f.attributeNames().prefix(6), ["Conventions", "title", "institution", "source", "history", "references"])
            XCTAssertEqual(try f.attribute("Conventions"), "CF-1.8")
            XCTAssertEqual(try f.attribute("seed"), .int64([42]))
            XCTAssertEqual(try f.attribute("conditioning_member"), .int32([0]))
            let history = try XCTUnwrap(f.attribute("history")?.text)
            XCTAssertTrue(history.hasSuffix("Z: ensemblegen test 'a b'"), history)
            // Missing values are stored as the fill value.
            XCTAssertEqual(try tas.read(Float.self, start: [0, 0, 0, 3], count: [1, 1, 1, 1]), [1e20])
        }
        // Labels survive the round trip.
        XCTAssertEqual(try EnsembleReader(path: p).members, ["r1i1p1f1", "r2i1p1f1", "r10i1p1f1"])
    }

    /// Streaming: members written one at a time (and in time slabs) read back equal.
    func testStreamingWritesBySlab() throws {
        let e = try sampleEnsemble()
        let p = path("stream.nc")
        let w = try EnsembleWriter(path: p, variable: e.variable, grid: e.grid, time: e.time, members: e.members,
                                   attributes: attributes())
        XCTAssertTrue(FileManager.default.fileExists(atPath: p + ".partial"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: p))
        let cells = e.grid.cellCount
        for m in (0..<3).reversed() {
            let member = Array(e.member(m))
            try w.write(member: m, timeStart: 2, values: Array(member[(2 * cells)...]))
            try w.write(member: m, timeStart: 0, values: Array(member[..<(2 * cells)]))
        }
        XCTAssertThrowsError(try w.write(member: 3, values: Array(e.member(0)))) { error in
            XCTAssertTrue("\(error)".contains("outside 3 members × 5 steps"), "\(error)")
        }
        XCTAssertThrowsError(try w.write(member: 0, timeStart: 0, values: [1, 2, 3]))
        try w.finish()
        XCTAssertEqual(try directoryContents(), ["stream.nc"])
        let reader = try EnsembleReader(path: p)
        for m in 0..<3 {
            let a = try reader.readMember(m), b = Array(e.member(m))
            XCTAssertEqual(a.map { $0.isNaN ? -1 : $0 }, b.map { $0.isNaN ? -1 : $0 })
        }
    }

    /// Without finish(), or when not every member was written, no output file remains.
    func testPartialFileRemovedWhenNotFinished() throws {
        let e = try sampleEnsemble()
        let p = path("abandoned.nc")
        do {
            let w = try EnsembleWriter(path: p, variable: e.variable, grid: e.grid, time: e.time, members: e.members,
                                       attributes: attributes())
            try w.write(member: 0, values: Array(e.member(0)))
            XCTAssertEqual(try directoryContents(), ["abandoned.nc.partial"])
        }   // released without finish
        XCTAssertEqual(try directoryContents(), [])

        let w = try EnsembleWriter(path: p, variable: e.variable, grid: e.grid, time: e.time, members: e.members,
                                   attributes: attributes())
        try w.write(member: 0, values: Array(e.member(0)))
        try w.write(member: 2, values: Array(e.member(2)))
        XCTAssertThrowsError(try w.finish()) { error in
            XCTAssertEqual("\(error)", "\(p): tas: member 1, time step 0 was never written; output discarded")
        }
        XCTAssertEqual(try directoryContents(), [])
        XCTAssertThrowsError(try EnsembleWriter(path: p, variable: e.variable, grid: e.grid, time: e.time,
                                                members: e.members, attributes: attributes(), storage: OutputStorage(deflateLevel: 10)))
        XCTAssertEqual(try directoryContents(), [])
    }

    func testRealizationNumbers() {
        XCTAssertEqual(EnsembleWriter.realizationNumbers(for: ["3", "1", "7"]), [3, 1, 7])
        XCTAssertEqual(EnsembleWriter.realizationNumbers(for: ["r1i1p1f1", "r12i1p1f1"]), [1, 12])
        XCTAssertEqual(EnsembleWriter.realizationNumbers(for: ["a", "b"]), [0, 1])
        XCTAssertEqual(EnsembleWriter.realizationNumbers(for: ["1", "1"]), [0, 1])
    }

    /// With a required range, a value outside it (or NaN) is refused and nothing is left.
    func testRequiredRangeRefusesImplausibleFields() throws {
        let e = try sampleEnsemble(members: ["0"])
        let p = path("computed.nc")
        let writer = try EnsembleWriter(path: p, variable: e.variable, grid: e.grid, time: e.time, members: e.members,
                                        attributes: attributes())
        writer.requiredRange = EnsembleWriter.plausibleTemperature
        var values = e.data.map { $0.isNaN ? 280 : $0 }
        values[7] = 1e6
        XCTAssertThrowsError(try writer.write(member: 0, values: values)) {
            XCTAssertTrue("\($0)".contains("the computed value 1e+06 K of member 0 at 1850-01-16 is not a plausible near-surface temperature (150–350 K)"), "\($0)")
        }
        values[7] = .nan
        XCTAssertThrowsError(try writer.write(member: 0, values: values))
        writer.cancel()
        XCTAssertEqual(try directoryContents(), [])
    }
}
