import CellaSecurity
import Foundation
import XCTest

/// The profile compiled into the binary is the one shipped in Profiles/.
final class DefaultSeccompProfileTests: XCTestCase {
  func testEmbeddedProfileEqualsTheShippedFile() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let shipped = try String(contentsOf: root.appendingPathComponent("Profiles/seccomp/default.json"), encoding: .utf8)
    XCTAssertEqual(
      DefaultSeccompProfile.json, shipped.hasSuffix("\n") ? String(shipped.dropLast()) : shipped,
      "run Scripts/embed-profiles.sh")
  }
}
