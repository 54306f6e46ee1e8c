import CellaCgroups
import CellaOCI
import XCTest

@testable import CellaEngine
@testable import CellaRuntimeCore

/// A config value with a line break must not break an error into two lines (found by cella-fuzz:
/// `linux.resources.devices[0].access: "rwe\nm"`).
final class OneLineErrorTests: XCTestCase {
  func testEveryErrorTypeFoldsLineBreaks() {
    let text = "linux.resources.devices[0].access: \"rwe\nm\" is not a combination of r, w and m"
    for message in [RuntimeError(text).message, CgroupError(text).message, OCIError(text).message] {
      XCTAssertFalse(message.contains("\n"), message)
      XCTAssertTrue(message.contains("\"rwe m\""), message)
    }
  }
}
