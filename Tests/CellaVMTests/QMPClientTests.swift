import CellaSys
import CellaVM
import Foundation
import Glibc
import XCTest

final class QMPClientTests: XCTestCase {
  typealias Step = QMPScriptedPeer.Step

  /// A client on a socket pair whose other end plays the handshake and then `script`.
  private func session(_ script: [Step], timeout: Double = 5, maxLineBytes: Int = QMPClient.defaultMaxLineBytes)
    throws -> (QMPClient, QMPScriptedPeer)
  {
    let (client, peerFD) = qmpSocketPair()
    let peer = QMPScriptedPeer(fd: peerFD, script: QMPScriptedPeer.handshake + script)
    let qmp = try QMPClient(adopting: client, path: "qmp.sock", timeout: timeout, maxLineBytes: maxLineBytes)
    return (qmp, peer)
  }

  private func message(_ body: () throws -> Void) -> String? {
    do {
      try body()
      return nil
    } catch {
      return (error as? VMError)?.message ?? "not a VMError: \(error)"
    }
  }

  func testTheHandshakeReadsTheGreetingAndQueryStatusReportsTheRunState() throws {
    let (qmp, peer) = try session([
      .expect(
        "query-status", reply: #"{"return": {"status": "running", "singlestep": false, "running": true}, "id": ID}"#),
      .expect("stop", reply: #"{"return": {}, "id": ID}"#),
      .expect("query-status", reply: #"{"return": {"status": "paused", "running": false}, "id": ID}"#),
      .expect("cont", reply: #"{"return": {}, "id": ID}"#),
      .expect("system_powerdown", reply: #"{"return": {}, "id": ID}"#),
    ])
    XCTAssertEqual(qmp.greeting["version"]?["qemu"]?["major"]?.int, 7)
    XCTAssertEqual(try qmp.queryStatus(), QMPStatus(state: .running, running: true))
    try qmp.stop()
    XCTAssertEqual(try qmp.queryStatus(), QMPStatus(state: .paused, running: false))
    try qmp.cont()
    try qmp.systemPowerdown()
    XCTAssertEqual(peer.finish(), [])
  }

  func testEventsBetweenACommandAndItsReplyAreQueuedWithTheirFields() throws {
    let (qmp, peer) = try session([
      .expect(
        "system_powerdown",
        reply: #"{"event": "POWERDOWN", "data": {}, "timestamp": {"seconds": 1, "microseconds": 2}}"# + "\r\n"
          + #"{"return": {}, "id": ID}"# + "\r\n"
          + #"{"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}, "timestamp": {"seconds": 1, "microseconds": 3}}"#
      ),
      .send(#"{"event": "GUEST_PANICKED", "data": {"action": "pause"}}"# + "\r\n"),
    ])
    try qmp.systemPowerdown()
    let shutdown = try qmp.waitForEvent(["SHUTDOWN"], timeout: 5)
    XCTAssertEqual(shutdown?.guest, true)
    XCTAssertEqual(shutdown?.reason, "guest-shutdown")
    let panic = try qmp.waitForEvent(["GUEST_PANICKED"], timeout: 5)
    XCTAssertEqual(panic?.action, "pause")
    XCTAssertEqual(qmp.takeEvents().map(\.name), ["POWERDOWN"])
    XCTAssertEqual(peer.finish(), [])
  }

  func testWaitForEventReturnsNilAfterItsTimeoutAndKeepsOtherEvents() throws {
    let (qmp, peer) = try session([
      .send(#"{"event": "RESET", "data": {"guest": true, "reason": "guest-reset"}}"# + "\n"),
      .send(#"{"event": "STOP"}"# + "\n"),
      .pause(1),
    ])
    let start = monotonic()
    XCTAssertNil(try qmp.waitForEvent(["RESUME"], timeout: 0.3))
    XCTAssertGreaterThanOrEqual(monotonic() - start, 0.3)
    XCTAssertEqual(try qmp.waitForEvent(nil, timeout: 1)?.name, "RESET")
    XCTAssertEqual(try qmp.waitForEvent(nil, timeout: 1), QMPEvent(name: "STOP"))
    XCTAssertEqual(peer.finish(), [])
  }

  func testAnErrorReplyIsOneLineNamingTheCommand() throws {
    let (qmp, peer) = try session([
      .expect(
        "cont",
        reply: #"{"error": {"class": "GenericError", "desc": "Resetting the Virtual Machine is required"}, "id": ID}"#),
      .expect(
        "frobnicate",
        reply:
          #"{"error": {"class": "CommandNotFound", "desc": "The command frobnicate has not been found"}, "id": ID}"#),
      .expect("query-status", reply: #"{"return": {"status": "shutdown", "running": false}, "id": ID}"#),
    ])
    XCTAssertEqual(
      message { try qmp.cont() }, "QMP command 'cont' failed: GenericError: Resetting the Virtual Machine is required")
    XCTAssertThrowsError(try qmp.execute("frobnicate")) { XCTAssertEqual(($0 as? VMError)?.kind, .unsupported) }
    // An error reply leaves the connection usable.
    XCTAssertEqual(try qmp.queryStatus().state, .shutdown)
    XCTAssertEqual(peer.finish(), [])
  }

  func testAPeerThatClosesMidReplyIsAnErrorAndSoIsEveryLaterCall() throws {
    let (qmp, peer) = try session([.receive("query-status"), .send(#"{"return": {"status": "runn"#), .close])
    XCTAssertEqual(
      message { _ = try qmp.queryStatus() },
      "QMP socket qmp.sock: QEMU closed the connection (in the middle of a message) while we waited for the reply to 'query-status'"
    )
    XCTAssertEqual(message { try qmp.stop() }?.hasPrefix("QMP command 'stop': QMP socket qmp.sock: QEMU closed"), true)
    XCTAssertEqual(peer.finish(), [])
  }

  func testACommandToAPeerThatHasGoneIsAnErrorNotASignal() throws {
    let (qmp, peer) = try session([.close])
    XCTAssertEqual(peer.finish(), [])
    usleep(50_000)
    XCTAssertNotNil(message { try qmp.stop() })
    XCTAssertNotNil(message { try qmp.cont() })
  }

  func testGarbageIsAnErrorWithItsColumn() throws {
    let (qmp, peer) = try session([.expect("stop", reply: #"{"return": {}, "id": ID,}"#)])
    let text = message { try qmp.stop() }
    XCTAssertEqual(
      text,
      "QMP socket qmp.sock: not JSON at column 32 (unexpected '}', expected a member name) while waiting for the reply to 'stop'"
    )
    XCTAssertEqual(peer.finish(), [])
  }

  func testAMessageThatIsNotAnObjectIsAnError() throws {
    let (qmp, peer) = try session([.expect("stop", reply: "[1, 2]")])
    XCTAssertEqual(message { try qmp.stop() }?.contains("not a JSON object"), true)
    XCTAssertEqual(peer.finish(), [])
  }

  func testALineOverTheCapIsRefusedWithoutWaitingForItsEnd() throws {
    let huge = String(repeating: "x", count: 20000)
    // No newline comes before the peer closes: the client must give up at the cap, not at the close.
    let (qmp, peer) = try session(
      [.receive("query-status"), .send(#"{"return": {"status": ""# + huge), .pause(0.5)], maxLineBytes: 4096)
    XCTAssertEqual(
      message { _ = try qmp.queryStatus(timeout: 30) },
      "QMP socket qmp.sock: a message longer than 4096 bytes was refused")
    XCTAssertEqual(peer.finish(), [])
  }

  func testALineOverTheCapIsRefusedEvenWhenItEndsInTheSameRead() throws {
    let long = #"{"event": "X", "data": {"pad": ""# + String(repeating: "y", count: 5000) + #""}}"# + "\n"
    let (qmp, peer) = try session([.send(long)], maxLineBytes: 4096)
    XCTAssertEqual(
      message { _ = try qmp.waitForEvent(timeout: 5) },
      "QMP socket qmp.sock: a message longer than 4096 bytes was refused")
    XCTAssertEqual(peer.finish(), [])
  }

  func testASilentPeerTimesOutAndItsLateReplyIsNotTakenForTheNextCommand() throws {
    let (qmp, peer) = try session([
      .receive("stop"),
      .pause(0.6),
      .send(#"{"return": {}, "id": "cella-2"}"# + "\n"),  // the late reply to 'stop' (qmp_capabilities was cella-1)
      .expect("query-status", reply: #"{"return": {"status": "paused", "running": false}, "id": ID}"#),
    ])
    let start = monotonic()
    XCTAssertEqual(message { try qmp.stop(timeout: 0.3) }, "QMP command 'stop': no reply within 0.3 s from qmp.sock")
    XCTAssertLessThan(monotonic() - start, 0.6)
    XCTAssertEqual(try qmp.queryStatus(), QMPStatus(state: .paused, running: false))
    XCTAssertEqual(peer.finish(), [])
  }

  func testQuitIsDoneWhenQEMUClosesBeforeItsReply() throws {
    let (qmp, peer) = try session([.receive("quit"), .close])
    XCTAssertNoThrow(try qmp.quit())
    XCTAssertEqual(peer.finish(), [])
  }

  func testQuitIsDoneWhenQEMUHasAlreadyClosedTheSocket() throws {
    let (qmp, peer) = try session([.close])
    XCTAssertEqual(peer.finish(), [])
    usleep(50_000)
    XCTAssertNoThrow(try qmp.quit())
    // And after a failed command has seen the close.
    XCTAssertNotNil(message { try qmp.stop() })
    XCTAssertNoThrow(try qmp.quit())
  }

  func testAFirstMessageThatIsNotAGreetingIsRefused() {
    let (client, peerFD) = qmpSocketPair()
    let peer = QMPScriptedPeer(fd: peerFD, script: [.send(#"{"hello": 1}"# + "\n"), .pause(0.2)])
    XCTAssertThrowsError(try QMPClient(adopting: client, path: "qmp.sock", timeout: 5)) {
      XCTAssertEqual(
        ($0 as? VMError)?.message, #"QMP socket qmp.sock: the peer's first message is not a QMP greeting: {"hello":1}"#)
    }
    XCTAssertEqual(peer.finish(), [])
  }

  func testAPeerThatNeverGreetsTimesOut() {
    let (client, peerFD) = qmpSocketPair()
    let peer = QMPScriptedPeer(fd: peerFD, script: [.pause(0.5)])
    XCTAssertThrowsError(try QMPClient(adopting: client, path: "qmp.sock", timeout: 0.2)) {
      XCTAssertEqual(($0 as? VMError)?.message, "QMP socket qmp.sock: no greeting within 0.2 s")
    }
    XCTAssertEqual(peer.finish(), [])
  }

  func testConnectReachesASocketWhosePathIsLongerThanASocketAddress() throws {
    let base = "/tmp/cella-it-qmp-\(getpid())"
    defer { _ = try? FileManager.default.removeItem(atPath: base) }
    let dir = base + "/" + String(repeating: "d", count: 60) + "/" + String(repeating: "e", count: 60)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/qmp.sock"
    XCTAssertGreaterThan(path.utf8.count, 108)
    let listener = Glibc.socket(AF_UNIX, Int32(Glibc.SOCK_STREAM.rawValue) | Int32(Glibc.SOCK_CLOEXEC.rawValue), 0)
    defer { close(listener) }
    let dirFD = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)
    defer { close(dirFD) }
    let bound = withSocketAddress("/proc/self/fd/\(dirFD)/qmp.sock") { bind(listener, $0, $1) }
    XCTAssertEqual(bound, 0)
    XCTAssertEqual(listen(listener, 1), 0)
    let peer = QMPScriptedPeer(
      listener: listener,
      script: QMPScriptedPeer.handshake + [
        .expect("query-status", reply: #"{"return": {"status": "prelaunch", "running": false}, "id": ID}"#)
      ])
    let qmp = try QMPClient.connect(path: path, timeout: 5)
    XCTAssertEqual(try qmp.queryStatus().state, .prelaunch)
    XCTAssertEqual(peer.finish(), [])
  }

  func testConnectToAMissingSocketIsNotFound() {
    XCTAssertThrowsError(try QMPClient.connect(path: "/tmp/cella-it-qmp-none-\(getpid())/qmp.sock")) {
      XCTAssertEqual(($0 as? VMError)?.kind, .notFound)
      XCTAssertEqual(($0 as? VMError)?.message, "QMP socket /tmp/cella-it-qmp-none-\(getpid())/qmp.sock does not exist")
    }
  }

  private func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }
}
