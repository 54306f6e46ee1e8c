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
    try rmTree(daemon.dir)
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

  func testGarbageBytesNeverStopTheDaemon() throws {
    let daemon = try TestDaemon()
    defer { daemon.stop() }
    var rng = SystemRandomNumberGenerator()
    let seeds: [String] = [
      "GET / HTTP/1.1\r\n", "POST /1.0/guests HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
      "GET /1.0/guests/%", "\r\n\r\n",
      "GET /1.0/exec/x HTTP/1.1\r\nUpgrade: cella-stream\r\nConnection: upgrade\r\n\r\n",
      "PATCH /1.0/profiles/p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ]
    for i in 0..<300 {
      var bytes = Array(seeds[i % seeds.count].utf8)
      for _ in 0..<Int.random(in: 0..<400, using: &rng) { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
      if i % 3 == 0, !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 0xff }
      let fd = try daemon.connectRaw()
      _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if i % 2 == 0 { shutdown(fd, Int32(SHUT_WR)) }
      var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      var sink = [UInt8](repeating: 0, count: 4096)
      _ = recv(fd, &sink, sink.count, 0)
      close(fd)
    }
    XCTAssertEqual(try daemon.client.get(Endpoints.prefix, as: DaemonInfo.self).version, "test")
  }
}
