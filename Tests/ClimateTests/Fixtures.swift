import Foundation
import XCTest
import NetCDF
import TestEnvironment
@testable import Climate

/// Test base class: a temporary directory per test and helpers that build NetCDF fixtures
/// from CDL text (via `ncgen`).
class CFTestCase: TemporaryDirectoryTestCase {

    /// Files currently in the test directory (to check nothing is left behind).
    func directoryContents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    /// Runs `ncgen` on `cdl` and returns the path of the netCDF-4 file `name` (skips when
    /// ncgen is absent, fails in CI).
    func ncgen(_ cdl: String, name: String) throws -> String {
        let ncgen = try validatorTool("ncgen", debianPackage: "netcdf-bin")
        let cdlPath = path(name + ".cdl"), out = path(name)
        try cdl.write(toFile: cdlPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = ncgen
        process.arguments = ["-k", "nc4", "-o", out, cdlPath]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            XCTFail("ncgen failed: \(message)")
            throw CFError(file: cdlPath, "ncgen failed")
        }
        try? FileManager.default.removeItem(atPath: cdlPath)
        return out
    }

    /// CDL of a (time, lat, lon) temperature file. `latitudes`/`longitudes` as in the file,
    /// `data` in file order; `extraVariables`/`tasAttributes` are inserted verbatim.
    func temperatureCDL(latitudes: [Double], longitudes: [Double], times: [Double] = [15, 45],
                        timeUnits: String = "days since 2000-01-01", calendar: String = "standard",
                        type: String = "float", units: String = "K", data: [Double],
                        tasAttributes: String = "", extraDimensions: String = "", extraVariables: String = "",
                        extraData: String = "", latitudeAttributes: String? = nil, longitudeAttributes: String? = nil) -> String {
        func list(_ v: [Double]) -> String { v.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int($0)) : "\($0)" }.joined(separator: ", ") }
        let latAttrs = latitudeAttributes ?? "lat:units = \"degrees_north\" ; lat:standard_name = \"latitude\" ; lat:axis = \"Y\" ;"
        let lonAttrs = longitudeAttributes ?? "lon:units = \"degrees_east\" ; lon:standard_name = \"longitude\" ; lon:axis = \"X\" ;"
        return """
        netcdf fixture {
        dimensions:
            time = UNLIMITED ; lat = \(latitudes.count) ; lon = \(longitudes.count) ; \(extraDimensions)
        variables:
            double time(time) ; time:units = "\(timeUnits)" ; time:calendar = "\(calendar)" ; time:standard_name = "time" ;
            double lat(lat) ; \(latAttrs)
            double lon(lon) ; \(lonAttrs)
            \(type) tas(time, lat, lon) ; tas:units = "\(units)" ; tas:standard_name = "air_temperature" ;
                tas:long_name = "Near-Surface Air Temperature" ; tas:cell_methods = "time: mean" ; \(tasAttributes)
            \(extraVariables)
        data:
            time = \(list(times)) ;
            lat = \(list(latitudes)) ;
            lon = \(list(longitudes)) ;
            tas = \(list(data)) ;
            \(extraData)
        }
        """
    }
}

/// Values 0, 1, 2, … as Double, for fixtures whose file order is easy to trace.
func ramp(_ n: Int, from start: Double = 0) -> [Double] { (0..<n).map { start + Double($0) } }
