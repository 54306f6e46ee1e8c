import CellaAPI
import CellaClient
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// The console and exec streams through the real daemon's API: several console clients at once, input
/// from one reaching the guest, history first; a terminal exec's exit code.
final class ManagerStreamTests: ManagerTestCase {
  var api: APIClient!

  override func setUpWithError() throws {
    try super.setUpWithError()
    api = APIClient(socketPath: f.socket)
  }

  /// Reads stdout frames from `c` until their text contains `text` (or 10 s pass); returns the text.
  func read(_ c: StreamConnection, until text: String) -> String {
    var seen = ""
    var tv = timeval(tv_sec: 0, tv_usec: 200_000)
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline && !seen.contains(text) {
      guard let frames = try? c.readFrames() else { continue }
      for fr in frames where fr.kind == .stdout || fr.kind == .stderr {
        seen += String(decoding: fr.payload, as: UTF8.self)
      }
    }
    return seen
  }

  func testTwoConsoleClientsSeeTheSameOutputAndEitherCanType() throws {
    let g = f.name("con")
    f.ok(["launch", g, "--image", "busybox", "--", "sh", "-c", "echo ready; while read l; do echo got:$l; done"])
    XCTAssertTrue(f.eventually { f.cli(["logs", g]).stdout.contains("ready") })
    let one = try api.upgrade(Endpoints.guest(g, "console") + "?history=true")
    let two = try api.upgrade(Endpoints.guest(g, "console") + "?history=false")
    XCTAssertTrue(read(one, until: "ready").contains("ready"), "history comes first")
    try one.send(StreamFrame(.stdin, Array("from-one\n".utf8)))
    XCTAssertTrue(read(one, until: "got:from-one").contains("got:from-one"))
    XCTAssertTrue(read(two, until: "got:from-one").contains("got:from-one"), "the second client sees it too")
    try two.send(StreamFrame(.stdin, Array("from-two\n".utf8)))
    XCTAssertTrue(read(one, until: "got:from-two").contains("got:from-two"))
    XCTAssertTrue(f.cli(["logs", g]).stdout.contains("got:from-two"), "and it is in the history")
  }

  func testTerminalExecRunsALoginShellAndReturnsItsExitCode() throws {
    let g = f.name("tty")
    f.ok(["launch", g, "--image", "busybox", "--", "sleep", "1000"])
    let session: ExecSession = try api.post(
      Endpoints.guest(g, "exec"), ExecRequest(command: [], tty: true, login: true, rows: 30, cols: 100))
    let c = try api.upgrade(Endpoints.exec(session.id))
    try c.send(StreamFrame(.stdin, Array("stty size; tty; exit 5\n".utf8)))
    let out = read(c, until: "/dev/pts")
    XCTAssertTrue(out.contains("30 100"), out)
    var exit: ExecExit?
    let deadline = Date().addingTimeInterval(10)
    while exit == nil && Date() < deadline {
      for fr in (try? c.readFrames()) ?? [] where fr.kind == .exit {
        exit = try? JSONDecoder().decode(ExecExit.self, from: Data(fr.payload))
      }
    }
    XCTAssertEqual(exit?.code, 5)
  }

  func testAPIErrorsCarryTheKindAndTheMatchingStatus() throws {
    let r = try api.send("GET", Endpoints.guest(f.name("none")))
    XCTAssertEqual(r.status, 404)
    let envelope = try JSONDecoder().decode(ErrorEnvelope.self, from: Data(r.body))
    XCTAssertEqual(envelope.error.kind, .notFound)
    let bad = try api.send(
      "POST", Endpoints.guests, Array(#"{"name":"x","image":"busybox","config":{"limits.cpu":"lots"}}"#.utf8))
    XCTAssertEqual(bad.status, 400)
    XCTAssertEqual(try JSONDecoder().decode(ErrorEnvelope.self, from: Data(bad.body)).error.kind, .invalidArgument)
  }
}
