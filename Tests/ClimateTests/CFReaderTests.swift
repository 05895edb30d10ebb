import Foundation
import TestEnvironment
import XCTest
import NetCDF
@testable import Climate

final class CFReaderTests: CFTestCase {
    /// North→south latitudes (with bounds) are flipped to south→north and the rows follow.
    func testDescendingLatitudeIsFlipped() throws {
        let p = try ncgen(temperatureCDL(
            latitudes: [60, 0, -60], longitudes: [0, 120, 240], data: ramp(18, from: 250),
            extraDimensions: "bnds = 2 ;", extraVariables: "double lat_bnds(lat, bnds) ;",
            extraData: "lat_bnds = 90, 30, 30, -30, -30, -90 ;",
            latitudeAttributes: "lat:units = \"degrees_north\" ; lat:bounds = \"lat_bnds\" ;"), name: "desc.nc")
        let e = try EnsembleReader.read(paths: [p])
        XCTAssertEqual(e.grid.latitudes, [-60, 0, 60])
        XCTAssertEqual(e.grid.latitudeBounds, [[-90, -30], [-30, 30], [30, 90]])
        // File row j (lat 60, 0, -60) holds 250 + t*9 + j*3 + i; program row 0 is file row 2.
        for t in 0..<2 { for j in 0..<3 { for i in 0..<3 {
            XCTAssertEqual(e.data[(t * 3 + j) * 3 + i], Float(250 + t * 9 + (2 - j) * 3 + i))
        } } }
        XCTAssertEqual(e.members, ["desc"])   // file name when there is no variant_label
        XCTAssertEqual(e.variable, VariableMetadata(name: "tas", standardName: "air_temperature",
                                                    longName: "Near-Surface Air Temperature", units: "K", cellMethods: "time: mean"))
    }

    /// −180…180 longitudes go to [0, 360) with the data rolled; bounds follow their cells.
    func testLongitudesFromMinus180AreRolled() throws {
        let p = try ncgen(temperatureCDL(
            latitudes: [-45, 45], longitudes: [-180, -90, 0, 90], times: [15], data: ramp(8, from: 270),
            extraDimensions: "bnds = 2 ;", extraVariables: "double lon_bnds(lon, bnds) ;",
            extraData: "lon_bnds = -225, -135, -135, -45, -45, 45, 45, 135 ;",
            longitudeAttributes: "lon:units = \"degrees_east\" ; lon:bounds = \"lon_bnds\" ;"), name: "lon.nc")
        let e = try EnsembleReader.read(paths: [p])
        XCTAssertEqual(e.grid.longitudes, [0, 90, 180, 270])
        XCTAssertEqual(e.grid.longitudeBounds, [[-45, 45], [45, 135], [135, 225], [225, 315]])
        // Program longitude i comes from file index [2, 3, 0, 1][i].
        let source = [2, 3, 0, 1]
        for j in 0..<2 { for i in 0..<4 { XCTAssertEqual(e.data[j * 4 + i], Float(270 + j * 4 + source[i])) } }
        XCTAssertTrue(e.grid.isGlobalInLongitude)
    }

    /// Packed shorts are unpacked with scale_factor/add_offset; _FillValue becomes NaN.
    func testPackedShortDataAndFillValue() throws {
        let raw: [Double] = [0, 100, -32767, -500, 2500, 1, 7, -32767]
        let p = try ncgen(temperatureCDL(
            latitudes: [-45, 45], longitudes: [0, 180], type: "short", data: raw,
            tasAttributes: "tas:scale_factor = 0.01f ; tas:add_offset = 273.15 ; tas:_FillValue = -32767s ;"), name: "packed.nc")
        let e = try EnsembleReader.read(paths: [p])
        for (k, r) in raw.enumerated() {
            // Layout: (time 2, lat 2, lon 2) and both coordinates already ascending.
            if r == -32767 { XCTAssertTrue(e.data[k].isNaN, "index \(k)") } else {
                XCTAssertEqual(e.data[k], Float(r * Double(Float(0.01)) + 273.15), "index \(k)")
            }
        }
        XCTAssertEqual(e.missingFraction, 2.0 / 8.0)
    }

    /// `_FillValue`, `missing_value`, NaN and values outside `valid_max` are all missing;
    /// degC is converted to K.
    func testMissingValuesAndCelsius() throws {
        let p = try ncgen(temperatureCDL(
            latitudes: [-45, 45], longitudes: [0, 180], units: "degC", data: [1e20, -999, 10, -5, 0, 600, 20, 30],
            tasAttributes: "tas:_FillValue = 1e20f ; tas:missing_value = -999.f ; tas:valid_max = 100.f ;"), name: "fill.nc")
        let reader = try EnsembleReader(path: p)
        XCTAssertEqual(reader.sourceUnits, "degC")
        let v = try reader.readMember(0)
        XCTAssertTrue(v[0].isNaN && v[1].isNaN && v[5].isNaN)
        XCTAssertEqual([v[2], v[3], v[4], v[6], v[7]], [283.15, 268.15, 273.15, 293.15, 303.15].map { Float($0) })
        var buffer = [Float](repeating: 0, count: 8)
        let missing = try buffer.withUnsafeMutableBufferPointer { try reader.readMember(0, into: $0) }
        XCTAssertEqual(missing, 3)
    }

    func testTemperatureUnits() {
        for s in ["K", "kelvin", "deg_K"] { XCTAssertEqual(TemperatureUnit(cfUnits: s), .kelvin, s) }
        for s in ["degC", "Celsius", "deg_C", "degrees_C", " degC "] { XCTAssertEqual(TemperatureUnit(cfUnits: s), .celsius, s) }
        for s in ["degF", "deg_F", "Fahrenheit"] { XCTAssertEqual(TemperatureUnit(cfUnits: s), .fahrenheit, s) }
        for s in ["C", "m", "kg m-2 s-1", "", "k"] { XCTAssertNil(TemperatureUnit(cfUnits: s), s) }
        XCTAssertEqual(TemperatureUnit.fahrenheit.toKelvin(32), 273.15)
        XCTAssertEqual(TemperatureUnit.fahrenheit.toKelvin(212), 373.15, accuracy: 1e-12)
        XCTAssertEqual(TemperatureUnit.celsius.toKelvin(-273.15), 0)
    }

    /// "hours since" units: dates decoded, daily step recognised; time slabs read by range.
    func testHoursSinceUnitsAndTimeRanges() throws {
        let p = try ncgen(temperatureCDL(
            latitudes: [-45, 45], longitudes: [0, 180], times: [12, 36, 60], timeUnits: "hours since 1999-12-31 12:00:00",
            units: "degF", data: ramp(12, from: 32)), name: "hours.nc")
        let reader = try EnsembleReader(path: p)
        XCTAssertEqual(reader.time.units.unit, .hours)
        XCTAssertEqual(reader.time.dates.map(\.day), [1, 2, 3])
        XCTAssertEqual(reader.time.dates[0], CFDateTime(year: 2000, month: 1, day: 1))
        XCTAssertEqual(reader.time.stepDescription, "daily")
        let all = try reader.readMember(0)
        let middle = try reader.readMember(0, times: 1..<2)
        XCTAssertEqual(middle, Array(all[4..<8]))
        XCTAssertEqual(all[0], Float(273.15))   // 32 °F
        let e = try reader.readEnsemble(times: 1..<3)
        XCTAssertEqual(e.time.values, [36, 60])
        XCTAssertEqual(e.data, Array(all[4...]))
    }

    /// A file with a realization dimension gives one member per index, labelled by the coordinate.
    func testMemberDimension() throws {
        let cdl = """
        netcdf members {
        dimensions: realization = 3 ; time = 2 ; lat = 2 ; lon = 3 ;
        variables:
            int realization(realization) ; realization:standard_name = "realization" ;
            double time(time) ; time:units = "days since 1850-01-01" ; time:calendar = "noleap" ;
            float lat(lat) ; lat:units = "degrees_north" ;
            float lon(lon) ; lon:units = "degrees_east" ;
            float tas(realization, time, lat, lon) ; tas:units = "K" ;
        data:
            realization = 4, 5, 6 ; time = 15.5, 45 ; lat = -30, 30 ; lon = 0, 120, 240 ;
            tas = \(ramp(36, from: 200).map { String(Int($0)) }.joined(separator: ", ")) ;
        }
        """
        let p = try ncgen(cdl, name: "members.nc")
        let reader = try EnsembleReader(path: p)
        XCTAssertEqual(reader.members, ["4", "5", "6"])
        XCTAssertEqual(reader.time.calendar, .noLeap)
        XCTAssertEqual(try reader.readMember(1), ramp(12, from: 212).map(Float.init))
        XCTAssertEqual(try reader.readMembers(1..<3), ramp(24, from: 212).map(Float.init))
        let e = try reader.readEnsemble(members: 2..<3)
        XCTAssertEqual(e.members, ["6"])
        XCTAssertEqual(Array(e.field(member: 0, time: 1)), ramp(6, from: 230).map(Float.init))
    }

    /// Two one-member files on different grids: the error names both files.
    func testMismatchedGridsNameBothFiles() throws {
        let a = try ncgen(temperatureCDL(latitudes: [-45, 45], longitudes: [0, 180], data: ramp(8, from: 280)), name: "a.nc")
        let b = try ncgen(temperatureCDL(latitudes: [-45, 45], longitudes: [0, 90, 180], data: ramp(12, from: 280)), name: "b.nc")
        XCTAssertThrowsError(try EnsembleReader(paths: [a, b])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("\(b): tas: grid 2×3"), text)
            XCTAssertTrue(text.contains(a), text)
        }
        let c = try ncgen(temperatureCDL(latitudes: [-45, 45], longitudes: [0, 180], times: [15, 46], data: ramp(8)), name: "c.nc")
        XCTAssertThrowsError(try EnsembleReader(paths: [a, c])) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(c): tas: time step 1 is 2000-02-16"), "\(error)")
            XCTAssertTrue("\(error)".contains(a), "\(error)")
        }
        // Matching files are concatenated as members.
        let d = try ncgen(temperatureCDL(latitudes: [-45, 45], longitudes: [0, 180], data: ramp(8, from: 300)), name: "d.nc")
        let e = try EnsembleReader.read(paths: [a, d])
        XCTAssertEqual(e.members, ["a", "d"])
        XCTAssertEqual(e.data, (ramp(8, from: 280) + ramp(8, from: 300)).map(Float.init))
    }

    /// Bounds, flag and scalar coordinate variables are ignored when finding the data
    /// variable (as in CMIP6 files with `time_bnds`, `height` and `file_qf`).
    func testDataVariableSelectionIgnoresAuxiliaryVariables() throws {
        let p = try ncgen(temperatureCDL(
            latitudes: [-45, 45], longitudes: [0, 180], data: ramp(8, from: 280), tasAttributes: "tas:coordinates = \"height\" ;",
            extraDimensions: "bnds = 2 ;",
            extraVariables: """
            double time_bnds(time, bnds) ; double height ; height:units = "m" ; height:standard_name = "height" ;
            double file_qf ; file_qf:flag_values = 0., 1. ; file_qf:flag_meanings = "ok bad" ;
            float mask(time, lat, lon) ; mask:flag_values = 0.f, 1.f ; mask:flag_meanings = "land sea" ;
            """,
            extraData: "time_bnds = 0, 30, 30, 60 ; height = 2 ; file_qf = 0 ;"), name: "aux.nc")
        let reader = try EnsembleReader(path: p)
        XCTAssertEqual(reader.variable.name, "tas")
        // `height`, named in `coordinates`, is carried; the flag variable is not a coordinate.
        XCTAssertEqual(reader.scalarCoordinates, [ScalarCoordinate(name: "height", value: 2, attributes: [
            .init("units", "m"), .init("standard_name", "height")])])
        XCTAssertEqual(reader.droppedScalarCoordinates, [])
        // Several candidates: temperature-like preferred; otherwise an explicit name is needed.
        let q = try ncgen(temperatureCDL(latitudes: [-45, 45], longitudes: [0, 180], data: ramp(8, from: 280),
                                         extraVariables: "float pr(time, lat, lon) ; pr:units = \"kg m-2 s-1\" ;",
                                         extraData: "pr = 1, 2, 3, 4, 5, 6, 7, 8 ;"), name: "two.nc")
        XCTAssertEqual(try EnsembleReader(path: q).variable.name, "tas")
        XCTAssertThrowsError(try EnsembleReader(path: q, variable: "pr")) { error in
            XCTAssertEqual("\(error)", "\(q): pr: unknown unit 'kg m-2 s-1': not a temperature unit (recognised: K, degC, Celsius, deg_C, degF)")
        }
        XCTAssertThrowsError(try EnsembleReader(path: q, variable: "tos")) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(q): tos: no such variable"), "\(error)")
        }
    }

    /// Coordinates are recognised by units or axis alone, whatever their names.
    func testCoordinatesFoundByAttributesNotNames() throws {
        let cdl = """
        netcdf odd {
        dimensions: t = 1 ; y = 2 ; x = 2 ;
        variables:
            double t(t) ; t:units = "days since 2000-01-01" ;
            double y(y) ; y:axis = "Y" ;
            double x(x) ; x:units = "degree_E" ;
            float temp(t, x, y) ; temp:units = "K" ;
        data: t = 0 ; y = 10, -10 ; x = 350, 10 ; temp = 281, 282, 283, 284 ;
        }
        """
        let p = try ncgen(cdl, name: "odd.nc")
        let e = try EnsembleReader.read(paths: [p])
        XCTAssertEqual(e.grid.latitudes, [-10, 10])
        XCTAssertEqual(e.grid.longitudes, [10, 350])
        // File temp(x, y): [x350: y10=281, y-10=282; x10: y10=283, y-10=284]; program (lat, lon).
        XCTAssertEqual(e.data, [284, 282, 283, 281])
        let g = try NetCDFFile.withFile(p) { try Grid(netCDF: $0) }
        XCTAssertEqual(g, e.grid)
    }

    /// A length-1 level dimension is dropped; a real level axis is an error naming it.
    func testSingletonLevelDimensionAndRealLevelAxis() throws {
        func cdl(levels: Int) -> String {
            """
            netcdf lev {
            dimensions: time = 1 ; height = \(levels) ; lat = 2 ; lon = 2 ;
            variables:
                double time(time) ; time:units = "days since 2000-01-01" ;
                double height(height) ; height:units = "m" ; height:positive = "up" ;
                double lat(lat) ; lat:standard_name = "latitude" ;
                double lon(lon) ; lon:standard_name = "longitude" ;
                float tas(time, height, lat, lon) ; tas:units = "K" ;
            data: time = 0 ; lat = -45, 45 ; lon = 90, 270 ;
                height = \((1...levels).map { String($0) }.joined(separator: ", ")) ;
                tas = \((0..<(4 * levels)).map { String(300 + $0) }.joined(separator: ", ")) ;
            }
            """
        }
        let one = try ncgen(cdl(levels: 1), name: "one.nc")
        XCTAssertEqual(try EnsembleReader.read(paths: [one]).data, [300, 301, 302, 303])
        let three = try ncgen(cdl(levels: 3), name: "three.nc")
        XCTAssertThrowsError(try EnsembleReader(path: three)) { error in
            XCTAssertEqual("\(error)", "\(three): tas: dimension 'height' (length 3) is not time, latitude, longitude or member; select one level first")
        }
    }
}
