import CellaOCI
import XCTest

final class ContainerIDTests: XCTestCase {
  func testValidIDsAreAccepted() {
    for id in ["a", "abc-123", "A_b+c.d", "x..y", String(repeating: "a", count: 1024)] {
      XCTAssertNoThrow(try ContainerID.validate(id), id)
      XCTAssertTrue(ContainerID.isValid(id))
    }
  }

  func testIDWithSlashIsRejectedWithTheAllowedCharacters() {
    XCTAssertThrowsError(try ContainerID.validate("a/b")) { error in
      XCTAssertEqual(
        (error as? OCIError)?.message, "container id \"a/b\" is invalid: use only letters, digits and _ + . -")
    }
  }

  func testDotAndDotDotAreRejected() {
    XCTAssertThrowsError(try ContainerID.validate("."))
    XCTAssertThrowsError(try ContainerID.validate(".."))
  }

  func testEmptyAndOverlongAndOddCharactersAreRejected() {
    XCTAssertThrowsError(try ContainerID.validate(""))
    XCTAssertThrowsError(try ContainerID.validate(String(repeating: "a", count: 1025)))
    for id in ["a b", "é", "a\nb", "a:b", "a*"] {
      XCTAssertThrowsError(try ContainerID.validate(id), id) { error in
        XCTAssertFalse((error as? OCIError)?.message.contains("\n") ?? true)
      }
    }
  }
}

final class ContainerStatusTests: XCTestCase {
  func testPredicatesFollowTheLifecycle() {
    let all = ContainerStatus.allCases
    XCTAssertEqual(all.filter(\.canStart), [.created])
    XCTAssertEqual(Set(all.filter(\.canKill)), [.created, .running, .paused])
    XCTAssertEqual(all.filter(\.canDelete), [.stopped])
    XCTAssertEqual(all.filter(\.canExec), [.running])
    XCTAssertEqual(all.filter(\.canPause), [.running])
    XCTAssertEqual(all.filter(\.canResume), [.paused])
  }

  func testStateRoundTripsWithRuncFields() throws {
    let state = ContainerState(
      id: "web", status: .running, pid: 4242, bundle: "/b", rootfs: "/b/rootfs",
      created: "2025-01-02T03:04:05.123456789Z", owner: "", annotations: ["k": "v"])
    let bytes = OCIJSON.encode(state)
    let text = String(decoding: bytes, as: UTF8.self)
    XCTAssertTrue(text.contains("\"pid\": 4242"), text)
    XCTAssertTrue(text.contains("\"owner\": \"\""), text)
    XCTAssertEqual(try OCIJSON.decode(ContainerState.self, from: bytes, file: "state.json"), state)
    XCTAssertEqual(state.containerStatus, .running)
  }

  func testBareOCIStateDecodesAndHookJSONLeavesOutRuncFields() throws {
    let json = #"{"ociVersion": "1.2.0", "id": "c", "status": "creating", "bundle": "/b"}"#
    let state = try OCIJSON.decode(ContainerState.self, from: Array(json.utf8), file: "state")
    XCTAssertEqual(state.pid, 0)
    XCTAssertEqual(state.rootfs, "")
    let hook = String(decoding: state.ociStateJSON(), as: UTF8.self)
    XCTAssertEqual(hook, #"{"ociVersion":"1.2.0","id":"c","status":"creating","bundle":"/b"}"#)
  }
}

final class NamespaceKindTests: XCTestCase {
  func testCloneFlagsAndProcNames() {
    XCTAssertEqual(NamespaceKind.pid.cloneFlag, 0x2000_0000)
    XCTAssertEqual(NamespaceKind.network.cloneFlag, 0x4000_0000)
    XCTAssertEqual(NamespaceKind.mount.cloneFlag, 0x0002_0000)
    XCTAssertEqual(NamespaceKind.ipc.cloneFlag, 0x0800_0000)
    XCTAssertEqual(NamespaceKind.uts.cloneFlag, 0x0400_0000)
    XCTAssertEqual(NamespaceKind.user.cloneFlag, 0x1000_0000)
    XCTAssertEqual(NamespaceKind.cgroup.cloneFlag, 0x0200_0000)
    XCTAssertEqual(NamespaceKind.time.cloneFlag, 0x0000_0080)
    XCTAssertEqual(
      NamespaceKind.allCases.map(\.procName), ["pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"])
    XCTAssertEqual(LinuxNamespace(type: "network").kind, .network)
    XCTAssertNil(LinuxNamespace(type: "net").kind)
  }
}

final class OCIErrorTests: XCTestCase {
  func testDescriptionIsOneLineWithoutTrailingNewline() {
    let error = OCIError("config.json: a\nb\n")
    XCTAssertEqual(error.description, "config.json: a b")
  }
}
