import CShims
import CellaSys
import Glibc

/// Where `cella-agent exec` reads the command's input and writes its output: its own stdio; with `--tty` and a
/// console socket, the slave of a new pty whose master went to the caller (as `cella-runtime exec` does); with
/// `--tty` alone, its own terminal in raw mode.
struct ClientTerminal {
  var input: Int32 = 0
  var output: Int32 = 1
  var errors: Int32 = 2
  /// The terminal whose size is sent and whose mode is restored at exit.
  private var terminal: Int32 = -1
  private var saved: termios? = nil

  static func make(_ o: ExecOptions) throws(ExecClient.Failure) -> ClientTerminal {
    var t = ClientTerminal()
    guard o.tty else { return t }
    if let socketPath = o.consoleSocket {
      let master = cella_pty_open("/dev/ptmx")
      let slave = master >= 0 ? cella_pty_peer(master) : -1
      guard slave >= 0 else { throw ExecClient.Failure(message: "open a pty: \(SysError.describe(errno))") }
      // The guest's pty does the echo and line editing; this one passes bytes through.
      var mode = termios()
      _ = cella_make_raw(slave, &mode)
      try sendMaster(master, to: socketPath)
      close(master)
      // The caller resizes the master; as this pty's session leader the client then gets SIGWINCH.
      setsid()
      _ = cella_set_ctty(slave)
      (t.input, t.output, t.errors, t.terminal) = (slave, slave, slave, slave)
      return t
    }
    guard isatty(0) != 0 else {
      throw ExecClient.Failure(message: "--tty: stdin is not a terminal; give --console-socket PATH")
    }
    var mode = termios()
    if cella_make_raw(0, &mode) == 0 { t.saved = mode }
    (t.input, t.output, t.errors, t.terminal) = (0, 1, 1, 0)
    return t
  }

  private var lastSize: (UInt16, UInt16)? = nil

  /// The terminal's rows and columns when they differ from the last ones returned; nil otherwise.
  mutating func changedSize() -> (UInt16, UInt16)? {
    var rows: UInt16 = 0
    var cols: UInt16 = 0
    guard terminal >= 0, cella_get_winsize(terminal, &rows, &cols) == 0, rows > 0, cols > 0 else { return nil }
    if let last = lastSize, last == (rows, cols) { return nil }
    lastSize = (rows, cols)
    return (rows, cols)
  }

  mutating func restore() {
    if var mode = saved { _ = cella_restore_mode(terminal, &mode) }
    saved = nil
  }

  /// runc's console-socket protocol: one message carrying the master in SCM_RIGHTS.
  private static func sendMaster(_ master: Int32, to path: String) throws(ExecClient.Failure) {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw ExecClient.Failure(message: "socket: \(SysError.describe(errno))") }
    defer { close(fd) }
    guard withSocketAddress(path, { connect(fd, $0, $1) }) == 0 else {
      throw ExecClient.Failure(message: "--console-socket \(path): \(SysError.describe(errno))")
    }
    let name = Array("/dev/ptmx".utf8)
    guard name.withUnsafeBytes({ cella_send_with_fd(fd, $0.baseAddress, $0.count, master) }) >= 0 else {
      throw ExecClient.Failure(message: "--console-socket \(path): send the terminal: \(SysError.describe(errno))")
    }
  }
}
