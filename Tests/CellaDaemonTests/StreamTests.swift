import CShims
import CellaAPI
import CellaClient
import Foundation
import Glibc
import XCTest

final class StreamTests: XCTestCase {
  var daemon: TestDaemon!

  override func setUpWithError() throws { daemon = try TestDaemon() }
  override func tearDown() { daemon.stop() }

  /// Reads frames until the connection ends; fails the test after 10 s.
  func drain(_ stream: StreamConnection) throws -> [StreamFrame] {
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(stream.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var frames = [StreamFrame]()
    while let frame = try stream.nextFrame() { frames.append(frame) }
    return frames
  }

  func testExecCarriesStdinOutputsAndExitStatus() throws {
    let session: ExecSession = try daemon.client.post(
      Endpoints.guest("web", "exec"), ExecRequest(command: ["sh"]), as: ExecSession.self)
    let stream = try daemon.client.upgrade(Endpoints.exec(session.id))
    try stream.send(StreamFrame(.stdin, Array("hello ".utf8)))
    try stream.send(StreamFrame.resize(rows: 24, cols: 80))
    try stream.send(StreamFrame(.stdin, Array("world\n".utf8)))
    try stream.send(StreamFrame(.stdinClosed))
    let frames = try drain(stream)
    let stdout = frames.filter { $0.kind == .stdout }.flatMap(\.payload)
    let stderr = frames.filter { $0.kind == .stderr }.flatMap(\.payload)
    XCTAssertEqual(String(decoding: stdout, as: UTF8.self), "hello world\n")
    XCTAssertEqual(String(decoding: stderr, as: UTF8.self), "err\n")
    XCTAssertEqual(frames.last?.kind, .exit)
    XCTAssertEqual(try JSONDecoder().decode(ExecExit.self, from: Data(frames.last!.payload)), ExecExit(code: 7))
    XCTAssertEqual(daemon.service.calls, ["prepareExec(web,[\"sh\"])", "startExec(e1)"])
    XCTAssertEqual(daemon.service.resizes.map { [$0.0, $0.1] }, [[24, 80]])
  }

  func testExecOfAnUnknownSessionAnswersTheErrorNotAnUpgrade() throws {
    daemon.service.fail("startExec", with: APIError(.notFound, "exec session nope: not found"))
    XCTAssertThrowsError(try daemon.client.upgrade(Endpoints.exec("nope"))) {
      XCTAssertEqual($0 as? APIError, APIError(.notFound, "exec session nope: not found"))
    }
  }

  func testAStreamRouteWithoutUpgradeIsRefused() throws {
    XCTAssertThrowsError(try daemon.client.call("GET", Endpoints.exec("e1"))) {
      XCTAssertEqual(($0 as? APIError)?.kind, .invalidArgument)
      XCTAssertEqual(
        ($0 as? APIError)?.message, "GET /1.0/exec/e1: needs Connection: Upgrade and Upgrade: cella-stream")
    }
    XCTAssertTrue(daemon.service.calls.isEmpty)
  }

  func testConsoleSendsHistoryThenBridgesTheKeeperBothWays() throws {
    var pair: [Int32] = [-1, -1]
    XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair), 0)
    let keeper = pair[1]
    defer { close(keeper) }
    daemon.service.console = ConsoleAttachment(history: Array("old output\n".utf8), keeper: pair[0])
    let stream = try daemon.client.upgrade(Endpoints.guest("web", "console") + "?history=true")
    XCTAssertEqual(try stream.nextFrame(), StreamFrame(.stdout, Array("old output\n".utf8)))

    // The keeper's frames reach the client as they are.
    let live = StreamFrame(.stdout, Array("live\n".utf8)).encoded
    XCTAssertEqual(write(keeper, live, live.count), live.count)
    XCTAssertEqual(try stream.nextFrame(), StreamFrame(.stdout, Array("live\n".utf8)))

    // The client's stdin and resize frames reach the keeper; others do not.
    try stream.send(StreamFrame(.stdout, Array("ignored".utf8)))
    try stream.send(StreamFrame(.stdin, Array("ls\n".utf8)))
    try stream.send(StreamFrame.resize(rows: 30, cols: 100))
    let expected = StreamFrame(.stdin, Array("ls\n".utf8)).encoded + StreamFrame.resize(rows: 30, cols: 100).encoded
    XCTAssertEqual(readExactly(keeper, expected.count), expected)

    // The keeper's exit frame ends it.
    let exit = StreamFrame(.exit, Array(#"{"code":0}"#.utf8)).encoded
    XCTAssertEqual(write(keeper, exit, exit.count), exit.count)
    shutdown(keeper, Int32(SHUT_RDWR))
    XCTAssertEqual(try drain(stream), [StreamFrame(.exit, Array(#"{"code":0}"#.utf8))])
    XCTAssertEqual(daemon.service.calls, ["attachConsole(web,true)"])
  }

  func testReadonlyConsoleDropsTheClientsFrames() throws {
    var pair: [Int32] = [-1, -1]
    XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair), 0)
    let keeper = pair[1]
    defer { close(keeper) }
    daemon.service.console = ConsoleAttachment(history: [], keeper: pair[0])
    let stream = try daemon.client.upgrade(Endpoints.guest("web", "console") + "?history=false&readonly=true")
    try stream.send(StreamFrame(.stdin, Array("rm -rf /\n".utf8)))
    // A frame from the keeper after the client's proves the daemon has read (and dropped) it.
    let live = StreamFrame(.stdout, Array("x".utf8)).encoded
    XCTAssertEqual(write(keeper, live, live.count), live.count)
    XCTAssertEqual(try stream.nextFrame(), StreamFrame(.stdout, Array("x".utf8)))
    usleep(100_000)
    var pending: Int32 = 0
    _ = ioctl(keeper, UInt(FIONREAD), &pending)
    XCTAssertEqual(pending, 0)
    shutdown(keeper, Int32(SHUT_RDWR))
    XCTAssertEqual(try drain(stream), [])
  }

  func testConsoleOfAStoppedGuestSendsHistoryThenAnEmptyExit() throws {
    daemon.service.console = ConsoleAttachment(history: Array("last words\n".utf8), keeper: nil)
    let stream = try daemon.client.upgrade(Endpoints.guest("web", "console") + "?history=true")
    XCTAssertEqual(
      try drain(stream), [StreamFrame(.stdout, Array("last words\n".utf8)), StreamFrame(.exit, Array("{}".utf8))])
  }

  func testAClientThatBreaksTheFrameProtocolIsDropped() throws {
    var pair: [Int32] = [-1, -1]
    XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair), 0)
    let keeper = pair[1]
    defer { close(keeper) }
    daemon.service.console = ConsoleAttachment(history: [], keeper: pair[0])
    let fd = try daemon.connectRaw()
    defer { close(fd) }
    let request = Array(
      "GET /1.0/guests/web/console HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: cella-stream\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    usleep(200_000)
    let garbage: [UInt8] = [99, 0, 0, 0, 1, 0]
    _ = garbage.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    let answer = String(decoding: readAll(fd), as: UTF8.self)
    XCTAssertTrue(answer.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), answer)
    // The daemon let go of the keeper connection too.
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(keeper, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var byte: UInt8 = 0
    XCTAssertEqual(recv(keeper, &byte, 1, 0), 0)
  }
}

func readExactly(_ fd: Int32, _ count: Int) -> [UInt8] {
  var timeout = timeval(tv_sec: 10, tv_usec: 0)
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  var out = [UInt8]()
  var chunk = [UInt8](repeating: 0, count: count)
  while out.count < count {
    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count - out.count, 0) }
    if n <= 0 { break }
    out += chunk[0..<n]
  }
  return out
}
