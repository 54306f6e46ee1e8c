import CellaOCI
import XCTest

final class OCIVersionTests: XCTestCase {
  func testSupportedVersionsAreAccepted() throws {
    for version in ["1.0.0", "1.0.2-dev", "1.1.0", "1.1.0-rc.1", "1.2.1", "1.3.0", "1.3.7", "1.0.0+build.5"] {
      XCTAssertTrue(OCIVersion.isSupported(version), version)
      XCTAssertNoThrow(try OCIVersion.check(version), version)
    }
  }

  func testUnsupportedVersionsAreRejectedWithTheSupportedRange() {
    for version in ["0.9", "0.9.0", "2.0.0", "1.4.0", "1.0", "1.0.0.0", "v1.0.0", "01.0.0", "1.0.0-", "abc"] {
      XCTAssertFalse(OCIVersion.isSupported(version), version)
      XCTAssertThrowsError(try OCIVersion.check(version), version) { error in
        XCTAssertEqual(
          (error as? OCIError)?.message,
          "config.json: ociVersion: unsupported version \"\(version)\" (supported 1.0.0 to 1.3.x)")
      }
    }
  }

  func testEmptyVersionIsReportedAsMissing() {
    var spec = validSpec()
    spec.ociVersion = ""
    assertRejected(spec, "config.json: ociVersion: missing")
  }

  func testMissingVersionFieldFailsDecodingNamingTheField() {
    assertDecodeFails(
      #"{"process": {"user": {"uid": 0, "gid": 0}, "cwd": "/"}}"#, "ociVersion: required field is missing")
  }

  func testValidatorRejectsUnsupportedVersion() {
    var spec = validSpec()
    spec.ociVersion = "2.0.0"
    assertRejected(spec, "config.json: ociVersion: unsupported version \"2.0.0\" (supported 1.0.0 to 1.3.x)")
  }

  func testParseSplitsTheSuffix() {
    XCTAssertEqual(OCIVersion.parse("1.1.0-rc.1"), OCIVersion.Parts(major: 1, minor: 1, patch: 0, suffix: "-rc.1"))
  }
}
