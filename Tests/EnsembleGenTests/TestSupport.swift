import Foundation
import XCTest
import NetCDF
import Climate
import TestEnvironment

/// The built `ensemblegen` executable next to the test bundle.
func ensemblegenExecutable() throws -> URL {
    var candidates = [Bundle.main.bundleURL.appendingPathComponent("ensemblegen")]
    for b in Bundle.allBundles { candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("ensemblegen")) }
    candidates.append(repositoryRoot.appendingPathComponent(".build/debug/ensemblegen"))
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        XCTFail("the ensemblegen executable was not built (looked in \(candidates.map(\.path))); run `swift build` first")
        throw CocoaError(.fileNoSuchFile)
    }
    return found
}

/// Writes a small (time, lat, lon) field file with the NetCDF module.
/// - Parameters:
///   - units: the data variable's units attribute (nil: none).
///   - withCoordinates: false leaves out latitude/longitude so no gridded field exists.
func writeFieldFile(_ path: String, variable: String = "tas", units: String? = "K", values: (Int, Int, Int) -> Float,
                    shape: (Int, Int, Int) = (3, 4, 8), withCoordinates: Bool = true) throws {
    let (nt, ny, nx) = shape
    let f = try NetCDFFile.create(path, overwrite: true)
    let t = try f.addDimension("time", length: nt)
    let y = try f.addDimension("lat", length: ny)
    let x = try f.addDimension("lon", length: nx)
    let time = try f.addVariable("time", type: .double, dimensions: [t])
    try time.setAttribute("units", "days since 2000-01-01")
    try time.setAttribute("calendar", "360_day")
    if withCoordinates {
        let lat = try f.addVariable("lat", type: .double, dimensions: [y])
        try lat.setAttribute("units", "degrees_north")
        let lon = try f.addVariable("lon", type: .double, dimensions: [x])
        try lon.setAttribute("units", "degrees_east")
        try lat.write(Grid.regular(latitudeCount: ny, longitudeCount: nx).latitudes)
        try lon.write(Grid.regular(latitudeCount: ny, longitudeCount: nx).longitudes)
    }
    let v = try f.addVariable(variable, type: .float, dimensions: [t, y, x])
    if let u = units { try v.setAttribute("units", .text(u)) }
    try time.write((0..<nt).map { 15 + 30 * Double($0) })
    var data: [Float] = []
    for k in 0..<nt { for j in 0..<ny { for i in 0..<nx { data.append(values(k, j, i)) } } }
    try v.write(data)
    try f.close()
}
