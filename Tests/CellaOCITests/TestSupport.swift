import CellaOCI
import Foundation
import XCTest

/// A temporary bundle directory with a `rootfs` inside, removed on deinit.
final class TempBundle {
  let path: String

  init() throws {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("cella-oci-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: base.appendingPathComponent("rootfs"), withIntermediateDirectories: true)
    path = base.path
  }

  func write(config: String) throws {
    try config.write(toFile: path + "/config.json", atomically: true, encoding: .utf8)
  }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// Whether a host path exists, for validators of real temporary bundles (CellaOCI itself does no I/O).
@Sendable func hostExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// A validator that believes every host path exists.
func permissiveValidator() -> SpecValidator {
  SpecValidator(bundle: "/bundle", hostHasPath: { _ in true })
}

/// A valid spec to mutate in one place per test.
func validSpec() -> Spec {
  DefaultSpec.make()
}

/// Asserts that validation fails with a message containing every fragment.
func assertRejected(
  _ spec: Spec, _ fragments: String..., validator: SpecValidator = permissiveValidator(),
  file: StaticString = #filePath, line: UInt = #line
) {
  do {
    try validator.validate(spec)
    XCTFail("expected validation to fail with \(fragments)", file: file, line: line)
  } catch {
    assertOneLine(error, fragments, file: file, line: line)
  }
}

func assertOneLine(_ error: OCIError, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
  let message = error.description
  XCTAssertFalse(message.contains("\n"), "message must be one line: \(message)", file: file, line: line)
  XCTAssertTrue(message.hasPrefix("config.json: ") || message.contains("/config.json"), message, file: file, line: line)
  for fragment in fragments {
    XCTAssertTrue(message.contains(fragment), "\(message) should contain \(fragment)", file: file, line: line)
  }
}

/// Asserts that decoding fails with a message containing every fragment.
func assertDecodeFails(
  _ json: String, _ fragments: String..., file: StaticString = #filePath, line: UInt = #line
) {
  do {
    _ = try SpecLoader.decode(Array(json.utf8))
    XCTFail("expected decoding to fail with \(fragments)", file: file, line: line)
  } catch {
    assertOneLine(error, fragments, file: file, line: line)
  }
}
