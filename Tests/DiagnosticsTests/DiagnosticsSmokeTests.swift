import XCTest
@testable import Diagnostics

final class DiagnosticsSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true, "placeholder until the module has tests") }
}
