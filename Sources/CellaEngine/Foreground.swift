import CShims
import CellaRuntimeCore
import CellaSys
import Glibc

/// Waits for a foreground container process: forwards signals, proxies a terminal, returns the exit code.
///
/// Single-threaded: one poll loop over stdin, the pty master and a signalfd. The caller has blocked all
/// signals (and become a subreaper) before the process was created.
struct Foreground {
  let pid: pid_t
  /// The pty master when the process has a terminal and no --console-socket was given.
  let master: Int32?

  /// Runs until `pid` exits; returns its exit code (128 + signal when killed).
  ///
  /// Terminal output is buffered and written only when stdout can take it, in pieces no larger than
  /// PIPE_BUF, so a reader that stops reading slows the container down (the pty fills up) but never
  /// hangs the runtime: once the process has exited, what cannot be written within two seconds is dropped.
  func wait() -> Int32 {
    var all = sigset_t()
    cella_sigset_fill(&all)
    let sfd = cella_signalfd(&all)
    defer { if sfd >= 0 { close(sfd) } }
    var saved = termios()
    var rawMode = false
    if let master {
      if isatty(0) != 0 && cella_make_raw(0, &saved) == 0 { rawMode = true }
      resize(master)
      _ = cella_fcntl(master, F_SETFL, O_NONBLOCK)
    }
    defer { if rawMode { _ = cella_restore_mode(0, &saved) } }
    var stdinOpen = master != nil
    var masterOpen = master != nil
    var output: [UInt8] = []
    var input: [UInt8] = []
    var code: Int32? = nil
    var deadline: Int64 = .max
    let limit = 1 << 16
    while true {
      if code != nil && (output.isEmpty && !masterOpen || monotonicMillis() > deadline) { break }
      if code != nil && deadline == .max { deadline = monotonicMillis() + 2000 }
      var fds = [pollfd(fd: sfd, events: Int16(POLLIN), revents: 0)]
      let m = master ?? -1
      var masterEvents: Int16 = 0
      if masterOpen && output.count < limit { masterEvents |= Int16(POLLIN) }
      if masterOpen && !input.isEmpty { masterEvents |= Int16(POLLOUT) }
      fds.append(pollfd(fd: masterEvents != 0 ? m : -1, events: masterEvents, revents: 0))
      fds.append(pollfd(fd: output.isEmpty ? -1 : 1, events: Int16(POLLOUT), revents: 0))
      fds.append(pollfd(fd: stdinOpen && input.count < limit ? 0 : -1, events: Int16(POLLIN), revents: 0))
      let timeout: Int32 = code == nil ? -1 : 100
      if poll(&fds, nfds_t(fds.count), timeout) < 0 && errno != EINTR { break }
      if fds[0].revents != 0 {
        while true {
          let sig = cella_signalfd_read(sfd)
          if sig <= 0 { break }
          if sig == SIGCHLD {
            if let c = reap() { code = c }
          } else if sig == SIGWINCH, let master {
            resize(master)
          } else {
            kill(pid, sig)
          }
        }
      }
      if fds[1].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
        if !readAvailable(m, into: &output, limit: limit) { masterOpen = false }
      }
      if fds[1].revents & Int16(POLLOUT) != 0 { writeSome(&input, to: m) }
      if fds[2].revents & Int16(POLLOUT) != 0 { writeSome(&output, to: 1) }
      if fds[2].revents & Int16(POLLERR | POLLHUP) != 0 { output.removeAll() }  // the reader is gone
      if fds[3].revents != 0 {
        if !readAvailable(0, into: &input, limit: limit) { stdinOpen = false }
      }
      if code != nil && masterOpen && output.count < limit {
        // The process is gone: take what is left in the pty without waiting for it.
        if !readAvailable(m, into: &output, limit: limit) { masterOpen = false }
      }
    }
    return code ?? 255
  }

  /// Reads what is available (non-blocking); false at EOF or error (EIO: the slave side is closed).
  private func readAvailable(_ fd: Int32, into buffer: inout [UInt8], limit: Int) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 16384)
    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, limit - buffer.count)) }
    if n > 0 {
      buffer += chunk[0..<n]
      return true
    }
    return n < 0 && (errno == EAGAIN || errno == EINTR)
  }

  /// Writes at most PIPE_BUF bytes, which a pipe or tty that polled writable takes without blocking.
  private func writeSome(_ buffer: inout [UInt8], to fd: Int32) {
    let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress, min($0.count, 4096)) }
    if n > 0 { buffer.removeFirst(n) } else if n < 0 && errno != EAGAIN && errno != EINTR { buffer.removeAll() }
  }

  /// Reaps children; returns the exit code when `pid` is among them.
  private func reap() -> Int32? {
    var result: Int32? = nil
    while true {
      var status: Int32 = 0
      let p = waitpid(-1, &status, WNOHANG)
      if p <= 0 { break }
      if p == pid { result = Processes.exitCode(status: status) }
    }
    return result
  }

  private func resize(_ master: Int32) {
    var rows: UInt16 = 0
    var cols: UInt16 = 0
    if cella_get_winsize(0, &rows, &cols) == 0 { _ = cella_set_winsize(master, rows, cols) }
  }
}
