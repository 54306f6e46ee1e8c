import CShims
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
    var code: Int32? = nil
    while code == nil {
      var fds = [pollfd(fd: sfd, events: Int16(POLLIN), revents: 0)]
      if let master { fds.append(pollfd(fd: master, events: Int16(POLLIN), revents: 0)) }
      if stdinOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
      if poll(&fds, nfds_t(fds.count), -1) < 0 && errno != EINTR { break }
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
      if let master, fds[1].revents != 0 {
        if copy(from: master, to: 1) == 0 && code == nil {
          // The slave side is closed: the process is exiting; SIGCHLD follows.
          usleep(1000)
        }
      }
      if stdinOpen, let master, fds.count > 2, fds[2].revents != 0 {
        if copy(from: 0, to: master) == 0 { stdinOpen = false }
      }
    }
    if let master {
      // Drain what the process wrote before it exited; never block on a reader that is gone.
      while copy(from: master, to: 1) > 0 {}
    }
    return code ?? 255
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

  /// Copies what is available: the byte count, 0 at EOF or error, -1 when nothing is ready.
  private func copy(from: Int32, to: Int32) -> Int {
    var buf = [UInt8](repeating: 0, count: 16384)
    let n = buf.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
    if n < 0 { return errno == EAGAIN || errno == EINTR ? -1 : 0 }
    if n == 0 { return 0 }
    var off = 0
    while off < n {
      let w = buf.withUnsafeBytes { write(to, $0.baseAddress! + off, n - off) }
      if w < 0 {
        if errno == EINTR { continue }
        return n  // the reader is gone or full: drop output rather than hang the container
      }
      off += w
    }
    return n
  }
}
