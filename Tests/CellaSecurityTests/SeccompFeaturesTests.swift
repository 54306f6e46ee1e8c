import CShims
import CellaOCI
import Glibc
import XCTest

@testable import CellaSecurity

/// Features report and the notify hand-off.
final class SeccompFeaturesTests: XCTestCase {
  func testFeaturesListEveryActionAndOperator() {
    XCTAssertEqual(Set(SeccompFeatures.actions), Set(SeccompAction.allCases.map(\.rawValue)))
    XCTAssertEqual(SeccompFeatures.actions.count, 9)
    XCTAssertEqual(Set(SeccompFeatures.operators), Set(SeccompOperator.allCases.map(\.rawValue)))
    XCTAssertEqual(SeccompFeatures.operators.count, 7)
    for arch in ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"] {
      XCTAssertTrue(SeccompFeatures.archs.contains(arch), arch)
    }
    XCTAssertEqual(
      SeccompFeatures.knownFlags,
      [
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
      ])
    XCTAssertTrue(Set(SeccompFeatures.supportedFlags).isSubset(of: Set(SeccompFeatures.knownFlags)))
    // Every supported flag compiles; the advertised list and the compiler agree.
    for flag in SeccompFeatures.supportedFlags {
      XCTAssertNoThrow(try SeccompCompiler.compile(LinuxSeccomp(defaultAction: "SCMP_ACT_ALLOW", flags: [flag])), flag)
    }
  }

  func testContainerProcessStateJSON() throws {
    let json = SeccompNotify.containerProcessState(
      metadata: "key=\"v\"\n", pid: 42, stateJSON: #"{"ociVersion":"1.3.0","id":"c1","status":"creating"}"#)
    XCTAssertEqual(
      json,
      #"{"ociVersion":"\#(OCIVersion.current)","fds":["seccompFd"],"pid":42,"metadata":"key=\"v\"\n","#
        + #""state":{"ociVersion":"1.3.0","id":"c1","status":"creating"}}"#)
    XCTAssertFalse(SeccompNotify.containerProcessState(metadata: nil, pid: 1, stateJSON: "{}").contains("metadata"))
  }

  func testSendPassesTheFdAndState() throws {
    let dir = NSTemporaryDirectory() + "cella-seccomp-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/listener.sock"

    let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    XCTAssertGreaterThanOrEqual(server, 0)
    defer { close(server) }
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
    let bound = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    XCTAssertEqual(bound, 0)
    XCTAssertEqual(listen(server, 1), 0)

    // Any fd stands in for the listener; the backlog lets connect finish before accept.
    var pipeFDs: [Int32] = [0, 0]
    XCTAssertEqual(pipe(&pipeFDs), 0)
    defer { close(pipeFDs[0]); close(pipeFDs[1]) }
    try SeccompNotify.send(
      listenerFD: pipeFDs[1], listenerPath: path, metadata: "m", pid: 7, stateJSON: #"{"id":"c1"}"#)

    let conn = accept(server, nil, nil)
    XCTAssertGreaterThanOrEqual(conn, 0)
    defer { close(conn) }
    var buf = [UInt8](repeating: 0, count: 4096)
    var received: Int32 = -1
    let n = buf.withUnsafeMutableBytes { cella_recv_with_fd(conn, $0.baseAddress, $0.count, &received) }
    XCTAssertGreaterThan(n, 0)
    XCTAssertEqual(
      String(decoding: buf[0..<max(n, 0)], as: UTF8.self),
      #"{"ociVersion":"\#(OCIVersion.current)","fds":["seccompFd"],"pid":7,"metadata":"m","state":{"id":"c1"}}"#)
    XCTAssertGreaterThanOrEqual(received, 0, "the fd rides along in SCM_RIGHTS")
    if received >= 0 {
      // Writing through the received fd reaches our pipe: it is the same open file.
      XCTAssertEqual(write(received, "x", 1), 1)
      var c: UInt8 = 0
      XCTAssertEqual(read(pipeFDs[0], &c, 1), 1)
      close(received)
    }
  }

  func testSendToAMissingListenerNamesThePath() {
    XCTAssertThrowsError(
      try SeccompNotify.send(
        listenerFD: 0, listenerPath: "/nonexistent/cella.sock", metadata: nil, pid: 1, stateJSON: "{}")
    ) { error in
      XCTAssertTrue(
        "\(error)".hasPrefix("linux.seccomp.listenerPath: connecting to /nonexistent/cella.sock"), "\(error)")
    }
  }
}
