import CShims
import CellaAPI
import CellaClient
import CellaDaemon
import Foundation
import Glibc
import XCTest

final class SocketTests: XCTestCase {
  func testSocketIsMode0600InANew0700Directory() throws {
    let daemon = try TestDaemon()
    defer { daemon.stop() }
    var st = stat()
    XCTAssertEqual(lstat(daemon.socket, &st), 0)
    XCTAssertEqual(st.st_mode & 0o7777, 0o600)
    XCTAssertEqual(st.st_mode & S_IFMT, S_IFSOCK)
    XCTAssertEqual(lstat(daemon.dir + "/run", &st), 0)
    XCTAssertEqual(st.st_mode & 0o7777, 0o700)
  }

  func testASecondDaemonOnTheSameSocketIsRefusedNamingThePid() throws {
    let daemon = try TestDaemon()
    defer { daemon.stop() }
    let second = DaemonServer(service: FakeService(), socketPath: daemon.socket)
    XCTAssertThrowsError(try second.start()) {
      XCTAssertEqual(($0 as? DaemonError)?.kind, .alreadyExists)
      XCTAssertEqual(
        ($0 as? DaemonError)?.message, "a daemon is already running on \(daemon.socket) (pid \(getpid()))")
    }
    // The first still serves.
    XCTAssertEqual(try daemon.client.get(Endpoints.prefix, as: DaemonInfo.self).version, "test")
  }

  func testAStaleSocketIsReplacedAndStopRemovesTheFile() throws {
    let daemon = try TestDaemon()
    daemon.server.stop()
    defer { try? rmTree(daemon.dir) }
    // A socket file nobody listens on: what a daemon killed with SIGKILL leaves.
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
      raw.copyBytes(from: Array(daemon.socket.utf8))
    }
    let rc = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    XCTAssertEqual(rc, 0)
    close(fd)
    let next = DaemonServer(service: FakeService(), socketPath: daemon.socket)
    try next.start()
    XCTAssertEqual(try daemon.client.get(Endpoints.prefix, as: DaemonInfo.self).version, "test")
    next.stop()
    XCTAssertEqual(access(daemon.socket, F_OK), -1)
  }

  func testAFileThatIsNotASocketIsNotRemoved() throws {
    let daemon = try TestDaemon()
    daemon.server.stop()
    defer { try? rmTree(daemon.dir) }
    let fd = open(daemon.socket, O_CREAT | O_WRONLY, 0o644)
    close(fd)
    XCTAssertThrowsError(try DaemonServer(service: FakeService(), socketPath: daemon.socket).start()) {
      XCTAssertEqual(($0 as? DaemonError)?.message, "socket \(daemon.socket): exists and is not a socket")
    }
    XCTAssertEqual(access(daemon.socket, F_OK), 0)
  }

  func testTheClientSaysTheDaemonIsNotRunningInOneLine() throws {
    var template = Array("/tmp/cella-it-client-XXXXXX".utf8CString)
    let dir = String(cString: mkdtemp(&template)!)
    defer { try? rmTree(dir) }
    let path = dir + "/cella.sock"
    XCTAssertThrowsError(try APIClient(socketPath: path).get(Endpoints.guests, as: [GuestSummary].self)) {
      XCTAssertEqual(
        $0 as? APIError,
        APIError(.system, "the daemon is not running (no socket at \(path)): start it with \"cella daemon\""))
    }
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
    _ = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    close(fd)
    XCTAssertThrowsError(try APIClient(socketPath: path).upgrade(Endpoints.exec("x"))) {
      XCTAssertEqual(
        $0 as? APIError,
        APIError(.system, "the daemon is not running (nothing listens on \(path)): start it with \"cella daemon\""))
    }
  }

  /// A request built from plausible parts, some of them broken: what reaches the router and the
  /// body decoder (pure noise mostly stops at the HTTP parser).
  static func fuzzRequest(_ rng: inout some RandomNumberGenerator) -> [UInt8] {
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    let segments = [
      "1.0", "guests", "images", "profiles", "exec", "build", "import", "config", "console", "logs", "start", "stop",
      "kill", "web", "%", "%zz", "%2F", "%00", "..", "", "\u{00e9}", "a%2",
    ]
    let queries = ["", "?force=true", "?force=maybe", "?history=1&readonly=0", "?x", "?%zz=1", "?force", "?&&="]
    let bodies = [
      "", "{}", "[]", "null", "{\"name\":1}", "{\"config\":{\"a\":[1]}}", "{\"set\":{\"k\":\"v\"},\"unset\":[3]}",
      "{\"command\":[],\"rows\":-1,\"cols\":99999999999999999999}", "{\"source\":\"nope\",\"name\":\"x\"}", "{\"",
      "\u{feff}{}", "{\"timeout\":1e400}",
    ]
    let routes = [
      "/1.0/guests", "/1.0/guests/web/stop", "/1.0/guests/web/kill", "/1.0/guests/web/config", "/1.0/guests/web/exec",
      "/1.0/guests/web/console", "/1.0/exec/e1", "/1.0/profiles", "/1.0/profiles/p", "/1.0/images/build",
      "/1.0/images/import",
    ]
    var path = ""
    if Bool.random(using: &rng) {
      path = routes.randomElement(using: &rng)!
    } else {
      for _ in 0..<Int.random(in: 0...5, using: &rng) { path += "/" + segments.randomElement(using: &rng)! }
      if Bool.random(using: &rng) { path = "/1.0" + path }
    }
    var body = Array(bodies.randomElement(using: &rng)!.utf8)
    for _ in 0..<Int.random(in: 0...3, using: &rng) where !body.isEmpty {
      body[Int.random(in: 0..<body.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
    }
    var head =
      "\(methods.randomElement(using: &rng)!) \(path.isEmpty ? "/" : path)\(queries.randomElement(using: &rng)!) HTTP/1.1\r\n"
    head += "Host: x\r\n"
    if Int.random(in: 0..<4, using: &rng) == 0 { head += "Connection: Upgrade\r\nUpgrade: cella-stream\r\n" }
    head += "Content-Length: \(body.count)\r\n\r\n"
    return Array(head.utf8) + body
  }

  func testGarbageBytesNeverStopTheDaemon() throws {
    let daemon = try TestDaemon()
    defer { daemon.stop() }
    var rng = SystemRandomNumberGenerator()
    for i in 0..<600 {
      var bytes = Self.fuzzRequest(&rng)
      if i % 3 == 0 {
        // Noise: flipped bytes, random tails, or nothing of HTTP at all.
        for _ in 0..<Int.random(in: 0..<200, using: &rng) { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
        bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 0xff
      } else if i % 7 == 0 {
        bytes = (0..<Int.random(in: 1..<600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
      }
      let fd = try daemon.connectRaw()
      _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if i % 2 == 0 { shutdown(fd, Int32(SHUT_WR)) }
      var timeout = timeval(tv_sec: 0, tv_usec: 20_000)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      var sink = [UInt8](repeating: 0, count: 4096)
      _ = recv(fd, &sink, sink.count, 0)
      close(fd)
    }
    XCTAssertEqual(try daemon.client.get(Endpoints.prefix, as: DaemonInfo.self).version, "test")
  }

}
