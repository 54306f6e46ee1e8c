import CShims
import Glibc

/// The saved mode of the local terminal while it is raw; signal handlers restore it from here.
nonisolated(unsafe) private var savedMode = termios()
nonisolated(unsafe) private var rawFD: Int32 = -1
/// Written by the SIGWINCH handler; the stream loop polls its other end.
nonisolated(unsafe) private var winchWrite: Int32 = -1

/// The local terminal: raw mode (restored on every way out, signals included) and its size.
enum Terminal {
  static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

  /// Rows and columns of `fd`, nil when it is not a terminal.
  static func size(_ fd: Int32 = 0) -> (rows: Int, cols: Int)? {
    var rows: UInt16 = 0
    var cols: UInt16 = 0
    guard cella_get_winsize(fd, &rows, &cols) == 0, rows > 0, cols > 0 else { return nil }
    return (Int(rows), Int(cols))
  }

  /// Puts `fd` in raw mode; `restore()` (or a fatal signal) puts it back.
  static func makeRaw(_ fd: Int32 = 0) -> Bool {
    guard cella_make_raw(fd, &savedMode) == 0 else { return false }
    rawFD = fd
    for sig in [SIGTERM, SIGHUP, SIGQUIT, SIGINT] {
      signal(sig) { sig in
        if rawFD >= 0 { _ = cella_restore_mode(rawFD, &savedMode) }
        signal(sig, SIG_DFL)
        raise(sig)
      }
    }
    return true
  }

  static func restore() {
    guard rawFD >= 0 else { return }
    _ = cella_restore_mode(rawFD, &savedMode)
    rawFD = -1
  }

  /// A pipe that becomes readable on SIGWINCH.
  static func watchResizes() -> Int32 {
    var pair: [Int32] = [-1, -1]
    guard cella_pipe2(&pair, O_CLOEXEC | O_NONBLOCK) == 0 else { return -1 }
    winchWrite = pair[1]
    signal(SIGWINCH) { _ in
      var byte: UInt8 = 1
      _ = write(winchWrite, &byte, 1)
    }
    return pair[0]
  }
}
