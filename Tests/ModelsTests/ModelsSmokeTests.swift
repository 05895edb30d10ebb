import XCTest
@testable import Models

final class ModelsSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true, "placeholder until the module has tests") }
}
