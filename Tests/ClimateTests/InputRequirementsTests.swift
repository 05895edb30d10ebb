import Foundation
import TestEnvironment
import XCTest
import NetCDF
@testable import Climate

/// The validation layer every command reads through: each refusal names the file, the
/// variable and the first offending place; what is fine is read unchanged.
final class InputRequirementsTests: CFTestCase {
    /// A 2-step monthly 2×2 field with `data` (file order), plus `tasAttributes`.
    func fixture(_ data: [Double], units: String = "K", tasAttributes: String = "", times: [Double] = [15, 45],
                 name: String) throws -> String {
        try ncgen(temperatureCDL(latitudes: [-45, 45], longitudes: [90, 270], times: times, units: units, data: data,
                                 tasAttributes: tasAttributes), name: name)
    }

    func message(_ path: String, _ requirements: InputRequirements) -> String? {
        do {
            let reader = try EnsembleReader(paths: [path], requirements: requirements)
            _ = try reader.readMember(0)
            return nil
        } catch { return "\(error)" }
    }

    func testMissingValuesRefusedOnlyWhereCompleteFieldsAreNeeded() throws {
        let p = try fixture([280, 281, 282, 283, 284, 285, 1e20, 287], tasAttributes: "tas:_FillValue = 1e20f ;", name: "fill.nc")
        XCTAssertEqual(message(p, .models),
                       "\(p): tas: missing values (NaN, _FillValue or outside valid_range), first at member fill, 2000-02-15, lat 45, lon 90; this command needs complete fields: fill them (e.g. cdo fillmiss) or choose other members or years")
        XCTAssertNil(message(p, .inspection))
        let values = try EnsembleReader(paths: [p], requirements: .inspection).readMember(0)
        XCTAssertEqual(values.filter(\.isNaN).count, 1)
        XCTAssertTrue(values[6].isNaN)
    }

    /// Kelvin numbers labelled degC, an undeclared fill value, 0 K and infinity are refused
    /// by every command, inspection included; the message gives the value as read.
    func testImplausibleValuesRefusedEverywhere() throws {
        let degC = try fixture([280, 281, 282, 283, 284, 285, 286, 287], units: "degC", name: "degc.nc")
        for requirements in [InputRequirements.models, .monthlyAnalysis, .inspection] {
            XCTAssertEqual(message(degC, requirements),
                           "\(degC): tas: value 553.15 K (280 degC in the file) at member degc, 2000-01-16, lat -45, lon 90 is outside the plausible range 150–350 K for near-surface temperature; check the units attribute and the fill value")
        }
        let big = try fixture([280, 281, 282, 283, 284, 1e30, 286, 287], name: "big.nc")
        XCTAssertTrue(message(big, .inspection)?.hasPrefix("\(big): tas: value 1e+30 K at member big, 2000-02-15, lat -45, lon 270 is outside") ?? false)
        let zero = try fixture([280, 281, 282, 0, 284, 285, 286, 287], name: "zero.nc")
        XCTAssertTrue(message(zero, .models)?.contains("value 0 K at member zero, 2000-01-16, lat 45, lon 270") ?? false)
        // Values just inside the range pass.
        let edge = try fixture([150, 350, 200, 300, 150, 350, 200, 300], name: "edge.nc")
        XCTAssertNil(message(edge, .models))
    }

    func testFrequencyCheckedAgainstTheCommand() throws {
        let daily = try fixture(Array(repeating: 280, count: 8), times: [0.5, 1.5], name: "daily.nc")
        XCTAssertEqual(message(daily, .models),
                       "\(daily): time: daily data (2 steps); this command needs monthly or annual means: compute them first, e.g. cdo monmean \(daily) monthly.nc")
        XCTAssertNil(message(daily, .inspection))
        let annual = try fixture(Array(repeating: 280, count: 8), times: [182, 547], name: "annual.nc")
        XCTAssertNil(message(annual, .models))
        XCTAssertEqual(message(annual, .monthlyAnalysis), "\(annual): time: annual data; this command needs monthly data")
        let gap = try fixture(Array(repeating: 280, count: 8), times: [15, 75], name: "gap.nc")
        XCTAssertEqual(message(gap, .monthlyAnalysis),
                       "\(gap): time: time steps are not monthly: step 1 (2000-03-16) follows step 0 (2000-01-16); this command needs a gap-free monthly series")
    }

    func testTimeOrderCheckedWhenTheFileIsOpened() throws {
        let p = try fixture(Array(repeating: 280, count: 8), times: [45, 15], name: "backward.nc")
        XCTAssertTrue(message(p, .inspection)?.hasPrefix("\(p): time: time values are not strictly increasing: step 1") ?? false)
    }

    /// A classic file cut short is refused when opened instead of read with a tail of zeros.
    func testTruncatedClassicFileRefused() throws {
        let p = path("classic.nc")
        let f = try NetCDFFile.create(p, format: .classic)
        let t = try f.addDimension("time", length: nil), y = try f.addDimension("lat", length: 2), x = try f.addDimension("lon", length: 2)
        let time = try f.addVariable("time", type: .double, dimensions: [t])
        try time.setAttribute("units", "days since 2000-01-01")
        let lat = try f.addVariable("lat", type: .double, dimensions: [y]), lon = try f.addVariable("lon", type: .double, dimensions: [x])
        try lat.setAttribute("units", "degrees_north")
        try lon.setAttribute("units", "degrees_east")
        let tas = try f.addVariable("tas", type: .float, dimensions: [t, y, x])
        try tas.setAttribute("units", "K")
        try lat.write([-45.0, 45]); try lon.write([90.0, 270])
        try time.write([15.0, 45, 75], start: [0], count: [3])
        try tas.write([Float](repeating: 280, count: 12), start: [0, 0, 0], count: [3, 2, 2])
        try f.close()
        XCTAssertNil(message(p, .inspection))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: p))
        let cut = path("cut.nc")
        try bytes.prefix(bytes.count - 8).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try EnsembleReader(paths: [cut], requirements: .inspection)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(cut): the file is truncated: its header declares"), "\(error)")
        }
    }

    /// Models wrap around in longitude, so they refuse a regional box; inspection takes it.
    func testRegionalGridRefusedByTheModels() throws {
        let p = try ncgen(temperatureCDL(latitudes: [-5, 5], longitudes: [190, 200, 210], data: Array(repeating: 290, count: 12)),
                          name: "box.nc")
        XCTAssertNil(message(p, .inspection))
        XCTAssertTrue(message(p, .models)?.hasPrefix("\(p): tas: the grid covers latitudes -5…5, longitudes 190…210, not the whole globe") ?? false,
                      message(p, .models) ?? "")
    }

    /// A FIFO given as input is refused at once (netcdf-c would wait on it for ever).
    func testFIFORefused() throws {
        let p = path("fifo.nc")
        XCTAssertEqual(mkfifo(p, 0o644), 0)
        XCTAssertEqual(message(p, .inspection), "\(p): cannot open: not a regular file (a FIFO, device or socket); give a NetCDF file")
    }
}
