import CellaVM
import Foundation
import Glibc
import Synchronization

/// A thread that plays QEMU's side of a QMP socket from a script, for QMPClient's tests.
final class QMPScriptedPeer: Sendable {
  enum Step: Sendable {
    /// Writes these bytes as they are.
    case send(String)
    /// Reads one command line, checks its `execute`, and answers `reply` with `ID` replaced by its id.
    case expect(String, reply: String)
    /// Reads one command line and checks its `execute` without answering.
    case receive(String)
    /// Waits this many seconds.
    case pause(Double)
    /// Closes the socket.
    case close
  }

  static let greeting =
    #"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "Debian 1:7.2"}, "capabilities": ["oob"]}}"#
    + "\r\n"
  /// The greeting and the answer to `qmp_capabilities`, which every session starts with.
  static let handshake: [Step] = [.send(greeting), .expect("qmp_capabilities", reply: #"{"return": {}, "id": ID}"#)]

  private let problems = Mutex<[String]>([])
  private let finished = DispatchSemaphore(value: 0)

  /// Plays `script` on `fd` (closed at the end) on a thread of its own.
  init(fd: Int32, script: [Step]) {
    Thread.detachNewThread { [self] in
      self.play(fd: fd, script: script)
      Glibc.close(fd)
      self.finished.signal()
    }
  }

  /// Accepts one connection on `listener`, then plays `script` on it.
  init(listener: Int32, script: [Step]) {
    Thread.detachNewThread { [self] in
      let fd = accept(listener, nil, nil)
      if fd < 0 {
        self.problems.withLock { $0.append("accept: errno \(errno)") }
      } else {
        self.play(fd: fd, script: script)
        Glibc.close(fd)
      }
      self.finished.signal()
    }
  }

  /// Waits for the script's end and returns what went against it (empty when all went as scripted).
  func finish(timeout: Double = 10) -> [String] {
    if finished.wait(timeout: .now() + timeout) == .timedOut { return ["the peer did not finish its script"] }
    return problems.withLock { $0 }
  }

  private func play(fd: Int32, script: [Step]) {
    for step in script {
      switch step {
      case .send(let text):
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      case .expect(let command, let reply):
        guard let id = receive(fd: fd, command: command) else { return }
        let line = reply.replacingOccurrences(of: "ID", with: id.json) + "\r\n"
        _ = Array(line.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      case .receive(let command):
        guard receive(fd: fd, command: command) != nil else { return }
      case .pause(let seconds):
        usleep(UInt32(seconds * 1_000_000))
      case .close:
        return
      }
    }
  }

  /// Reads one line and returns its id, or records what was wrong and returns nil.
  private func receive(fd: Int32, command: String) -> QMPValue? {
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while true {
      let n = read(fd, &byte, 1)
      if n <= 0 {
        problems.withLock { $0.append("the client closed before sending '\(command)'") }
        return nil
      }
      if byte == UInt8(ascii: "\n") { break }
      line.append(byte)
    }
    guard let message = try? QMPValue.parse(line), message["execute"]?.string == command, let id = message["id"] else {
      let text = String(decoding: line, as: UTF8.self)
      problems.withLock { $0.append("expected '\(command)' with an id, got \(text)") }
      return nil
    }
    return id
  }
}

/// A connected socket pair: the client's end and the peer's.
func qmpSocketPair() -> (client: Int32, peer: Int32) {
  var fds: [Int32] = [0, 0]
  precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0)
  return (fds[0], fds[1])
}
