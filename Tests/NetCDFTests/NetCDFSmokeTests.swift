import XCTest
@testable import NetCDF

final class NetCDFSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true, "placeholder until the module has tests") }
}
