import CellaOCI
import Foundation
import XCTest

@testable import CellaRuntimeCore

/// config.json, --process and --resources are read one way, and every failure names the file.
final class InputFileTests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cella-input-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func testConfigIsReadFromTheBundle() throws {
    try #"{"ociVersion": "1.3.0", "root": {"path": "rootfs"}}"#.write(
      toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    XCTAssertEqual(try SpecLoader.decode(InputFile.config(bundle: dir)).root?.path, "rootfs")
  }

  func testMissingConfigSaysWhichFileAndHints() {
    XCTAssertThrowsError(try InputFile.config(bundle: dir)) { error in
      XCTAssertEqual((error as? RuntimeError)?.message, "\(dir)/config.json: no such file (is --bundle right?)")
    }
  }

  func testDecodeErrorsNameTheFlagAndTheFileAndTheField() throws {
    XCTAssertThrowsError(try InputFile.decode(LinuxResources.self, from: dir + "/none", flag: "--resources")) {
      XCTAssertEqual(($0 as? RuntimeError)?.message, "--resources \(dir)/none: no such file or directory")
    }
    try #"{"pids": {"limit": "x"}}"#.write(toFile: dir + "/r.json", atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try InputFile.decode(LinuxResources.self, from: dir + "/r.json", flag: "--resources")) {
      let message = ($0 as? RuntimeError)?.message ?? ""
      XCTAssertTrue(message.hasPrefix("\(dir)/r.json: pids.limit: "), message)
    }
  }
}
