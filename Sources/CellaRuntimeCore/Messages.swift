import CellaSys
import Glibc

/// Typed messages between the runtime (parent) and the container's init process (child).
package enum InitMessage: Equatable {
  /// parent → child: the pid is recorded (and id maps written when the clone made a user namespace).
  case go
  /// child → parent: a user namespace was unshared; write the maps of this pid.
  case needMaps(pid: Int32)
  /// parent → child: maps written.
  case mapsWritten
  /// child → parent: the init process is this grandchild (host pid).
  case initPID(Int32)
  /// child → parent: mounts are ready, pivot_root is next; run prestart and createRuntime hooks.
  case mountsReady
  /// parent → child: hooks ran; continue. Carries the state JSON for createContainer hooks.
  case proceed(state: String)
  /// child → parent: set-up is done; the init waits for start.
  case ready
  /// parent → child: the created state is saved; stop watching the parent.
  case committed
  /// either way: a failure, as one line.
  case error(String)
  /// start → init: run startContainer hooks and exec. Carries the state JSON.
  case start(state: String)
  /// child → parent: the pty master travels with this message (SCM_RIGHTS).
  case console
  /// child → runtime: the seccomp notify listener fd travels with this message, for listenerPath.
  case seccompListener

  package var bytes: [UInt8] {
    switch self {
    case .go: return [1]
    case .needMaps(let pid): return [2] + Array(String(pid).utf8)
    case .mapsWritten: return [3]
    case .initPID(let pid): return [4] + Array(String(pid).utf8)
    case .mountsReady: return [5]
    case .proceed(let state): return [6] + Array(state.utf8)
    case .ready: return [7]
    case .committed: return [8]
    case .error(let text): return [9] + Array(text.utf8)
    case .start(let state): return [10] + Array(state.utf8)
    case .console: return [11]
    case .seccompListener: return [12]
    }
  }

  init?(_ bytes: [UInt8]) {
    guard let tag = bytes.first else { return nil }
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    switch tag {
    case 1: self = .go
    case 2: guard let p = Int32(text) else { return nil }; self = .needMaps(pid: p)
    case 3: self = .mapsWritten
    case 4: guard let p = Int32(text) else { return nil }; self = .initPID(p)
    case 5: self = .mountsReady
    case 6: self = .proceed(state: text)
    case 7: self = .ready
    case 8: self = .committed
    case 9: self = .error(text)
    case 10: self = .start(state: text)
    case 11: self = .console
    case 12: self = .seccompListener
    default: return nil
    }
  }
}

extension Packet {
  package func send(_ message: InitMessage) throws(SysError) { try send(message.bytes) }

  /// The next message; nil at EOF (the peer exited). A passed fd is closed.
  package func receiveMessage() throws(SysError) -> InitMessage? {
    guard let (message, fd) = try receiveMessageWithFD() else { return nil }
    if fd >= 0 { _ = Glibc.close(fd) }
    return message
  }

  /// The next message and the fd that came with it (-1 if none); nil at EOF.
  package func receiveMessageWithFD() throws(SysError) -> (InitMessage, Int32)? {
    guard let (bytes, fd) = try receive() else { return nil }
    return (InitMessage(bytes) ?? .error("garbled message from the peer"), fd)
  }
}
