import CShims
import Glibc

/// Reads one fd on its own thread until end of file, an error (EIO: a pty whose other side is gone) or
/// `stop()`, then closes it. It owns the fd from `start` on.
final class FdReader: @unchecked Sendable {
  private let fd: Int32
  /// Written by `stop()` to wake the poll; closed when the reader goes away, never before.
  private let wakeRead: Int32
  private let wakeWrite: Int32

  init(fd: Int32) {
    self.fd = fd
    var pair: [Int32] = [-1, -1]
    if cella_pipe2(&pair, O_CLOEXEC | O_NONBLOCK) != 0 { pair = [-1, -1] }
    wakeRead = pair[0]
    wakeWrite = pair[1]
  }

  deinit {
    if wakeRead >= 0 { close(wakeRead) }
    if wakeWrite >= 0 { close(wakeWrite) }
  }

  /// Hands every chunk to `deliver` (which may block: that is the backpressure), then calls `finished`.
  func start(deliver: @escaping @Sendable ([UInt8]) -> Void, finished: @escaping @Sendable () -> Void) {
    startThread { [self] in
      loop(deliver)
      close(fd)
      finished()
    }
  }

  /// Ends the reading at the next poll; the fd is closed then.
  func stop() {
    var byte: UInt8 = 1
    _ = write(wakeWrite, &byte, 1)
  }

  private func loop(_ deliver: ([UInt8]) -> Void) {
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    var fds = [
      pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
    ]
    while true {
      fds[0].revents = 0
      fds[1].revents = 0
      let rc = poll(&fds, nfds_t(wakeRead >= 0 ? 2 : 1), -1)
      if rc < 0 {
        if errno == EINTR { continue }
        return
      }
      if wakeRead >= 0, fds[1].revents != 0 { return }
      guard fds[0].revents != 0 else { continue }
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n > 0 {
        deliver(Array(buffer[0..<n]))
      } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
        return
      }
    }
  }
}

/// Writes to one fd on its own thread, in order, so a slow reader on the other side never blocks an
/// event loop. It owns the fd and closes it on `.close` or `finish()`.
final class FdWriter: @unchecked Sendable {
  enum Op: Sendable {
    case bytes([UInt8])
    /// Something that must happen in order with the writes (a resize).
    case call(@Sendable () -> Void)
    /// Closes the fd (end of input for the process); later bytes are dropped.
    case close
  }

  private let monitor = Monitor()
  private var fd: Int32
  private var ops: [Op] = []
  private var finishing = false

  init(fd: Int32) {
    self.fd = fd
    startThread { [self] in run() }
  }

  func enqueue(_ op: Op) {
    monitor.locked {
      guard !finishing else { return }
      ops.append(op)
      monitor.broadcast()
    }
  }

  /// Does what is queued, closes the fd and ends the thread.
  func finish() {
    monitor.locked {
      finishing = true
      monitor.broadcast()
    }
  }

  private func run() {
    while true {
      let next: Op? = monitor.locked {
        while ops.isEmpty && !finishing { monitor.wait() }
        return ops.isEmpty ? nil : ops.removeFirst()
      }
      guard let op = next else { break }
      switch op {
      case .bytes(let bytes): writeAll(bytes)
      case .call(let body): body()
      case .close: closeFD()
      }
    }
    closeFD()
  }

  private func writeAll(_ bytes: [UInt8]) {
    guard fd >= 0 else { return }
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
      if n < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN {
          var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
          _ = poll(&pfd, 1, -1)
          continue
        }
        // The process closed its input (EPIPE) or the keeper went away: drop the rest.
        closeFD()
        return
      }
      offset += n
    }
  }

  private func closeFD() {
    if fd >= 0 { close(fd) }
    fd = -1
  }
}
