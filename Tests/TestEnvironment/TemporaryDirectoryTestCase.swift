import Foundation
import XCTest

/// A test case with a fresh temporary directory for each test (`directory`, `path(_:)`),
/// removed with everything in it afterwards.
open class TemporaryDirectoryTestCase: XCTestCase {
    public var directory: URL!

    open override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(type(of: self))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    open override func tearDownWithError() throws {
        if let d = directory { try? FileManager.default.removeItem(at: d) }
        try super.tearDownWithError()
    }

    /// `name` inside this test's directory.
    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}
