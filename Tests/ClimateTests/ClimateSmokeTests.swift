import XCTest
@testable import Climate

final class ClimateSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true, "placeholder until the module has tests") }
}
