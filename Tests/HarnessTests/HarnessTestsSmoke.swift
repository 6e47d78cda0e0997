import XCTest
final class HarnessTestsPlaceholder: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
