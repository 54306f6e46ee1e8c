import CShims
import CellaSys
import CellaVM
import Glibc

/// One exec: the command started with pipes or a pty, its stdio relayed over the port until it exits (then the
/// exit frame) or the host goes away (then its process group is killed).
struct PortSession {
  var link: PortLink
  let config: GuestBootConfig
  let request: AgentExecRequest
  var decoder: AgentFrameDecoder

  /// Output fds after the command exits are read until they are idle this long (a daemonized grandchild may
  /// hold them open forever).
  static let drainMilliseconds: Int32 = 200

  mutating func run() throws(PortServer.Disconnected) {
    // The command's ends and ours: stdin writer, stdout reader, stderr reader (the pty master for all three).
    var ours: (input: Int32, output: Int32, errors: Int32)
    var theirs: [Int32]
    if request.tty {
      let master = cella_pty_open("/dev/pts/ptmx")
      let slave = master >= 0 ? cella_pty_peer(master) : -1
      guard slave >= 0 else { return try fail(126, "open a pty: \(SysError.describe(errno))") }
      _ = cella_set_winsize(master, request.rows, request.cols)
      ours = (master, dup(master), -1)
      theirs = [slave]
    } else {
      var i: [Int32] = [-1, -1]
      var o: [Int32] = [-1, -1]
      var e: [Int32] = [-1, -1]
      guard cella_pipe2(&i, O_CLOEXEC) == 0, cella_pipe2(&o, O_CLOEXEC) == 0, cella_pipe2(&e, O_CLOEXEC) == 0 else {
        return try fail(126, "pipe: \(SysError.describe(errno))")
      }
      ours = (i[1], o[0], e[0])
      theirs = [i[0], o[1], e[1]]
    }
    let stdio = request.tty ? (theirs[0], theirs[0], theirs[0]) : (theirs[0], theirs[1], theirs[2])
    let pid: pid_t
    do {
      pid = try GuestProcess.spawn(
        argv: request.argv, env: request.env.isEmpty ? config.env : request.env, cwd: request.cwd ?? config.cwd,
        uid: request.uid ?? config.uid, gid: request.gid ?? config.gid, stdio: stdio, terminal: request.tty)
    } catch {
      for fd in theirs { close(fd) }
      for fd in [ours.input, ours.output, ours.errors] where fd >= 0 { close(fd) }
      return try fail(error.status, error.message)
    }
    for fd in theirs { close(fd) }
    for fd in [ours.input, ours.output, ours.errors] where fd >= 0 {
      _ = cella_fcntl(fd, F_SETFL, cella_fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
    }
    defer {
      for fd in [ours.input, ours.output, ours.errors] where fd >= 0 { close(fd) }
    }
    do {
      let status = try relay(pid: pid, &ours)
      try link.send(AgentFrame.exit(status).encoded())
    } catch {
      // The host is gone: nobody will read the output, so nothing of the session may linger.
      kill(-pid, SIGKILL)
      var status: Int32 = 0
      _ = waitpid(pid, &status, 0)
      throw error
    }
  }

  private mutating func fail(_ status: Int32, _ message: String) throws(PortServer.Disconnected) {
    try link.send(AgentFrame.error(status: status, message: message).encoded())
  }

  /// Relays until the command has exited and its output is drained; returns its shell-style status.
  private mutating func relay(pid: pid_t, _ ours: inout (input: Int32, output: Int32, errors: Int32))
    throws(PortServer.Disconnected) -> Int32
  {
    let pidfd = cella_pidfd_open(pid, 0)
    defer { if pidfd >= 0 { close(pidfd) } }
    var pendingInput: [UInt8] = []
    var closeInputWhenWritten = false
    var status: Int32? = nil
    var buffer = [UInt8](repeating: 0, count: AgentProtocol.chunkSize)
    while true {
      // Frames first: the exec request's read may have brought the first stdin frames with it.
      while true {
        let next: AgentFrame?
        do { next = try decoder.next() } catch {
          // A malformed frame means the stream is not a cella client's: end the session.
          throw PortServer.Disconnected()
        }
        guard let frame = next else { break }
        switch frame {
        case .stdin(let bytes): pendingInput += bytes
        case .stdinEOF where !request.tty: closeInputWhenWritten = true
        case .resize(let rows, let cols) where request.tty: _ = cella_set_winsize(ours.input, rows, cols)
        case .signal(let sig): kill(-pid, sig)
        default: break
        }
      }
      // Before the poll: the end may have come in the last read with nothing left to write, and then nothing
      // else would wake the poll while the command waits for it.
      if closeInputWhenWritten && pendingInput.isEmpty && ours.input >= 0 {
        close(ours.input)
        ours.input = -1
        closeInputWhenWritten = false
      }
      var fds: [pollfd] = [
        pollfd(fd: pendingInput.count < 1 << 20 ? link.fd : -1, events: Int16(POLLIN), revents: 0),
        pollfd(fd: ours.output, events: Int16(POLLIN), revents: 0),
        pollfd(fd: ours.errors, events: Int16(POLLIN), revents: 0),
        pollfd(fd: pendingInput.isEmpty ? -1 : ours.input, events: Int16(POLLOUT), revents: 0),
        pollfd(fd: status == nil ? pidfd : -1, events: Int16(POLLIN), revents: 0),
      ]
      let ready = poll(&fds, nfds_t(fds.count), status == nil ? -1 : Self.drainMilliseconds)
      if ready < 0 && errno == EINTR { continue }
      if status != nil && (ready == 0 || (ours.output < 0 && ours.errors < 0)) { return status! }
      if fds[0].revents & Int16(POLLIN) != 0 {
        let n = buffer.withUnsafeMutableBytes { read(link.fd, $0.baseAddress, $0.count) }
        if n > 0 { decoder.feed(buffer[0..<n]) }
        if n == 0 && link.hostGone(fds[0].revents) { throw PortServer.Disconnected() }
      } else if fds[0].fd >= 0 && link.hostGone(fds[0].revents) {
        throw PortServer.Disconnected()
      }
      for (index, makeFrame) in [(1, AgentFrame.stdout), (2, AgentFrame.stderr)]
      where fds[index].revents != 0 {
        let fd = fds[index].fd
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
          try link.send(makeFrame(Array(buffer[0..<n])).encoded())
        } else if n == 0 || errno != EAGAIN {
          // EOF, or EIO from a pty master once the last slave is closed.
          close(fd)
          if index == 1 { ours.output = -1 } else { ours.errors = -1 }
        }
      }
      if fds[3].revents != 0 {
        let n = pendingInput.withUnsafeBytes { write(ours.input, $0.baseAddress, $0.count) }
        if n > 0 { pendingInput.removeFirst(n) } else if errno != EAGAIN { pendingInput = [] }
      }
      if fds[4].revents != 0 || (pidfd < 0 && status == nil) {
        var raw: Int32 = 0
        if waitpid(pid, &raw, pidfd < 0 ? WNOHANG : 0) == pid {
          status = cella_wifsignaled(raw) != 0 ? 128 + cella_wtermsig(raw) : cella_wexitstatus(raw)
        }
      }
    }
  }
}
