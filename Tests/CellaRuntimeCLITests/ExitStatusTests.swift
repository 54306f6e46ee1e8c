import CellaErrors
import XCTest

@testable import cella_runtime

/// The CLI's one table from error kind to exit status (runc's statuses).
final class ExitStatusTests: XCTestCase {
  func testExecutableKindsExitLikeAShellAndEverythingElseExitsOne() {
    for kind in ErrorKind.allCases {
      let expected: Int32
      switch kind {
      case .executableNotFound: expected = 127
      case .executableNotRunnable: expected = 126
      default: expected = 1
      }
      XCTAssertEqual(exitStatus(for: kind), expected, "\(kind.rawValue)")
    }
  }
}
