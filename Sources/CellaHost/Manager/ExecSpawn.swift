import CShims
import CellaAPI
import CellaErrors
import CellaSys
import Foundation
import Glibc

/// `cella-runtime exec` with pipes for stdio: the daemon keeps the other ends.
enum ExecPipes {
  static func spawn(argv: [String]) throws(HostError) -> ExecProcess {
    var inPipe: [Int32] = [-1, -1]
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    guard cella_pipe2(&inPipe, O_CLOEXEC) == 0 else { throw HostError("pipe", path: "exec stdin", errno: errno) }
    guard cella_pipe2(&outPipe, O_CLOEXEC) == 0 else {
      let e = errno
      close(inPipe[0])
      close(inPipe[1])
      throw HostError("pipe", path: "exec stdout", errno: e)
    }
    guard cella_pipe2(&errPipe, O_CLOEXEC) == 0 else {
      let e = errno
      for fd in inPipe + outPipe { close(fd) }
      throw HostError("pipe", path: "exec stderr", errno: e)
    }
    let pid: Int32
    do {
      pid = try Spawn.start(
        path: argv[0], argv: argv, env: runtimeEnvironment, stdin: inPipe[0], stdout: outPipe[1], stderr: errPipe[1],
        closeOthers: true)
    } catch {
      for fd in inPipe + outPipe + errPipe { close(fd) }
      throw HostError("exec", path: argv[0], errno: error.errno)
    }
    close(inPipe[0])
    close(outPipe[1])
    close(errPipe[1])
    return ExecProcess(pid: pid, stdin: inPipe[1], stdout: outPipe[0], stderr: errPipe[0])
  }

  /// The runtime's environment: a PATH, nothing of the daemon's.
  static let runtimeEnvironment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
}

/// `cella-runtime exec --tty`: the runtime makes the pty inside the guest and hands its master over a
/// console socket, as it does for podman.
enum ExecTerminal {
  static func spawn(
    argv base: [String], id: String?, command: [String], rows: Int?, cols: Int?, directory: String
  ) throws(HostError) -> ExecProcess {
    let sockName = ".exec-\(UInt32.random(in: 0...UInt32.max)).sock"
    let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard listener >= 0 else { throw HostError("socket", path: "exec console", errno: errno) }
    defer { close(listener) }
    // Bound through an O_PATH fd of the guest directory, so a long state dir never overflows sun_path.
    let dirfd = open(directory, O_PATH | O_DIRECTORY | O_CLOEXEC)
    guard dirfd >= 0 else { throw HostError("open", path: directory, errno: errno) }
    defer { close(dirfd) }
    let path = "/proc/self/fd/\(dirfd)/\(sockName)"
    guard withSocketAddress(path, { bind(listener, $0, $1) }) == 0, listen(listener, 1) == 0 else {
      throw HostError("bind", path: directory + "/" + sockName, errno: errno)
    }
    defer { unlinkat(dirfd, sockName, 0) }
    let argv =
      base + ["--tty", "--console-socket", directory + "/" + sockName] + (id.map { [$0] } ?? []) + ["--"] + command
    let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
    defer { close(devnull) }
    var errPipe: [Int32] = [-1, -1]
    guard cella_pipe2(&errPipe, O_CLOEXEC) == 0 else { throw HostError("pipe", path: "exec stderr", errno: errno) }
    let pid: Int32
    do {
      pid = try Spawn.start(
        path: argv[0], argv: argv, env: ExecPipes.runtimeEnvironment, stdin: devnull, stdout: devnull,
        stderr: errPipe[1], closeOthers: true)
    } catch {
      close(errPipe[0])
      close(errPipe[1])
      throw HostError("exec", path: argv[0], errno: error.errno)
    }
    close(errPipe[1])
    // Wait for the master, or for the runtime to fail (its stderr closes when it exits).
    var fds = [
      pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
      pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0),
    ]
    var master: Int32 = -1
    var errText = [UInt8]()
    let deadline = Date().addingTimeInterval(30)
    while master < 0 {
      let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
      if left == 0 { break }
      let r = poll(&fds, 2, left)
      if r < 0 { if errno == EINTR { continue } else { break } }
      if fds[0].revents != 0 {
        let conn = cella_accept4(listener, Int32(SOCK_CLOEXEC.rawValue))
        if conn >= 0 {
          var buf = [UInt8](repeating: 0, count: 4096)
          var fd: Int32 = -1
          _ = cella_recv_with_fd(conn, &buf, buf.count, &fd)
          close(conn)
          master = fd
        }
      }
      if fds[1].revents != 0 && master < 0 {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = read(errPipe[0], &buf, buf.count)
        if n > 0 { errText += buf[0..<n] } else { break }
      }
    }
    guard master >= 0 else {
      close(errPipe[0])
      var status: Int32 = 0
      kill(pid, SIGKILL)
      _ = waitpid(pid, &status, 0)
      let text = String(decoding: errText, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 0
      let kind: ErrorKind = code == 127 ? .executableNotFound : code == 126 ? .executableNotRunnable : .system
      throw HostError(kind, text.isEmpty ? "exec: the runtime sent no terminal" : text)
    }
    // The runtime's own errors after the pty was handed over (a missing command: 127) still reach the
    // client, as stderr frames next to the terminal's output.
    if let rows, let cols { resize(master, rows: rows, cols: cols) }
    return ExecProcess(pid: pid, stderr: errPipe[0], terminal: master)
  }

  static func resize(_ fd: Int32, rows: Int, cols: Int) {
    _ = cella_set_winsize(fd, UInt16(clamping: rows), UInt16(clamping: cols))
  }

}
