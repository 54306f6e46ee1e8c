import CShims
import CellaAPI
import CellaClient
import CellaDaemon
import Foundation
import Glibc
import XCTest

/// A daemon serving a `FakeService` on a socket under /tmp/cella-it-*, removed at the end.
final class TestDaemon {
  let service = FakeService()
  let dir: String
  let socket: String
  let server: DaemonServer
  let client: APIClient

  init(file: StaticString = #filePath, line: UInt = #line) throws {
    var template = Array("/tmp/cella-it-daemon-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw APIError(.system, "mkdtemp") }
    dir = String(cString: made)
    socket = dir + "/run/cella.sock"
    server = DaemonServer(service: service, socketPath: socket)
    client = APIClient(socketPath: socket)
    try server.start()
  }

  func stop() {
    server.stop()
    _ = try? rmTree(dir)
  }

  /// A raw HTTP exchange: the status and body of the answer to `request`.
  func raw(_ request: [UInt8]) throws -> (Int, [UInt8]) {
    let fd = try connectRaw()
    defer { close(fd) }
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    let answer = readAll(fd)
    let text = String(decoding: answer, as: UTF8.self)
    guard let first = text.split(separator: "\r\n").first, first.count >= 12,
      let status = Int(first.dropFirst(9).prefix(3))
    else { return (0, answer) }
    guard let split = text.range(of: "\r\n\r\n") else { return (status, []) }
    return (status, Array(text[split.upperBound...].utf8))
  }

  func connectRaw() throws -> Int32 {
    let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(socket.utf8)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    let rc = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard rc == 0 else {
      close(fd)
      throw APIError(.system, "connect \(socket): errno \(errno)")
    }
    return fd
  }
}

/// Reads until end of file (with a 10 s receive timeout, so a hung daemon fails the test).
func readAll(_ fd: Int32) -> [UInt8] {
  var timeout = timeval(tv_sec: 10, tv_usec: 0)
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  var out = [UInt8]()
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    if n <= 0 { return out }
    out += chunk[0..<n]
  }
}

func rmTree(_ path: String) throws {
  var st = stat()
  guard lstat(path, &st) == 0 else { return }
  if st.st_mode & S_IFMT == S_IFDIR {
    if let dir = opendir(path) {
      while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) {
          String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
        }
        if name == "." || name == ".." { continue }
        try rmTree(path + "/" + name)
      }
      closedir(dir)
    }
    rmdir(path)
  } else {
    unlink(path)
  }
}
