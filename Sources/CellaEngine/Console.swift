import CShims
import CellaRuntimeCore
import CellaSys
import Glibc

/// Pseudo-terminals for process.terminal: created inside the container, the master handed out.
enum Console {
  /// Opens a pty from the container's /dev/ptmx, makes its slave our controlling terminal and stdio,
  /// and returns the master (close-on-exec) for the runtime to pass on.
  static func attach(size: (height: UInt16, width: UInt16)?) throws(RuntimeError) -> Int32 {
    let master = cella_pty_open("/dev/ptmx")
    if master < 0 {
      throw RuntimeError("process.terminal: open /dev/ptmx: \(SysError.describe(errno)) (is /dev/pts mounted?)")
    }
    let slave = cella_pty_peer(master)
    if slave < 0 { throw RuntimeError("process.terminal: open the pty slave: \(SysError.describe(errno))") }
    if let size { _ = cella_set_winsize(master, size.height, size.width) }
    if setsid() < 0 { throw RuntimeError("process.terminal: setsid: \(SysError.describe(errno))") }
    if cella_set_ctty(slave) != 0 {
      throw RuntimeError("process.terminal: set the controlling terminal: \(SysError.describe(errno))")
    }
    for target in Int32(0)...2 where dup2(slave, target) < 0 {
      throw RuntimeError("process.terminal: dup2: \(SysError.describe(errno))")
    }
    if slave > 2 { close(slave) }
    return master
  }

  /// Sends a pty master to a `--console-socket` listener as runc does (SCM_RIGHTS, name as payload).
  static func send(master: Int32, to socketPath: String) throws(RuntimeError) {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { throw RuntimeError("--console-socket: socket: \(SysError.describe(errno))") }
    defer { close(fd) }
    let rc = withSocketAddress(socketPath) { connect(fd, $0, $1) }
    if rc != 0 { throw RuntimeError("--console-socket \(socketPath): connect: \(SysError.describe(errno))") }
    let name = Array("/dev/ptmx".utf8)
    let n = name.withUnsafeBytes { cella_send_with_fd(fd, $0.baseAddress, $0.count, master) }
    if n < 0 { throw RuntimeError("--console-socket \(socketPath): send: \(SysError.describe(errno))") }
  }
}
