import CShims
import CellaSys
import CellaVM
import Glibc

/// `cella-agent exec`: runs a command in a VM guest through a free agent port and behaves to its caller like
/// `cella-runtime exec` (stdio relayed or a pty master sent over the console socket; its exit status is the
/// command's, or 128 + signal). Its own failures are one `cella-agent exec:` line and status 125.
enum ExecClient {
  static let usageStatus: Int32 = 125
  /// The most ports a guest has (`GuestBootConfig.maxAgentPorts`).
  static let signalsForwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

  struct Failure: Error {
    let message: String
  }

  static func main(_ arguments: ArraySlice<String>) -> Int32 {
    let options: ExecOptions
    do {
      options = try ExecOptions.parse(arguments)
    } catch {
      return report("\(error.message) (usage: \(ExecOptions.usage))")
    }
    do throws(Failure) {
      return try run(options)
    } catch {
      return report(error.message)
    }
  }

  private static func report(_ message: String) -> Int32 {
    try? FileIO.writeAll(fd: 2, Array("cella-agent exec: \(message)\n".utf8))
    return usageStatus
  }

  private static func run(_ o: ExecOptions) throws(Failure) -> Int32 {
    signal(SIGPIPE, SIG_IGN)
    let socket = try claimPort(o)
    defer { close(socket) }
    let nonce = randomNonce()
    try writeAll(socket, AgentProtocol.helloMagic + nonce)
    let early = try awaitAck(socket, nonce: nonce, o)
    var terminal = try ClientTerminal.make(o)
    defer { terminal.restore() }
    let (rows, cols) = terminal.changedSize() ?? (24, 80)
    let request = AgentExecRequest(
      argv: o.command, env: o.env, cwd: o.cwd, uid: o.uid, gid: o.gid, tty: o.tty, rows: rows, cols: cols)
    try writeAll(socket, AgentFrame.exec(request).encoded())
    var decoder = AgentFrameDecoder()
    decoder.feed(early)
    return try relay(socket, &decoder, &terminal, o)
  }

  /// Locks the first free `agent-K.lock` of the directory and connects to its socket; the lock is held (fd
  /// left open, close-on-exec) for the life of this process.
  private static func claimPort(_ o: ExecOptions) throws(Failure) -> Int32 {
    let dirfd = open(o.dir, O_PATH | O_DIRECTORY | O_CLOEXEC)
    guard dirfd >= 0 else { throw Failure(message: "--dir \(o.dir): \(SysError.describe(errno))") }
    defer { close(dirfd) }
    var ports = 0
    while ports < GuestBootConfig.maxAgentPorts && faccessat(dirfd, "agent-\(ports + 1).sock", F_OK, 0) == 0 {
      ports += 1
    }
    guard ports > 0 else { throw noAgent(o, why: "no agent-1.sock in \(o.dir)") }
    for k in 1...ports {
      let lock = openat(dirfd, "agent-\(k).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
      guard lock >= 0 else { throw Failure(message: "\(o.dir)/agent-\(k).lock: \(SysError.describe(errno))") }
      if flock(lock, LOCK_EX | LOCK_NB) != 0 {
        close(lock)
        continue
      }
      let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard fd >= 0 else { throw Failure(message: "socket: \(SysError.describe(errno))") }
      // Through the directory's fd, so a long state directory never overflows sun_path.
      let path = "/proc/self/fd/\(dirfd)/agent-\(k).sock"
      guard withSocketAddress(path, { connect(fd, $0, $1) }) == 0 else {
        let e = errno
        close(fd)
        throw noAgent(o, why: "connect \(o.dir)/agent-\(k).sock: \(SysError.describe(e)) (is the VM running?)")
      }
      return fd
    }
    throw Failure(message: "guest \(o.name ?? o.dir): all \(ports) agent ports are busy (one exec each); try again")
  }

  private static func noAgent(_ o: ExecOptions, why: String) -> Failure {
    Failure(
      message: "guest \(o.name ?? o.dir): no cella agent answers (a VM from a foreign disk has none); "
        + "use `cella console` (\(why))")
  }

  private static func randomNonce() -> [UInt8] {
    var nonce = [UInt8](repeating: 0, count: AgentProtocol.nonceSize)
    let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
      _ = nonce.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      close(fd)
    }
    // Uniqueness is what matters (a new session never takes an old one's answer), not secrecy.
    var mix = UInt64(UInt32(bitPattern: getpid())) << 32 ^ UInt64(UInt(bitPattern: time(nil)))
    for i in nonce.indices {
      mix = mix &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      nonce[i] ^= UInt8(truncatingIfNeeded: mix >> 56)
    }
    return nonce
  }

  /// Skips whatever an earlier session left queued until the agent's answer to this nonce; returns the bytes
  /// after it.
  private static func awaitAck(_ fd: Int32, nonce: [UInt8], _ o: ExecOptions) throws(Failure) -> [UInt8] {
    var sync = AgentSync(pattern: AgentProtocol.ackMagic + nonce)
    var deadline = timespec()
    clock_gettime(CLOCK_MONOTONIC, &deadline)
    let end = Int64(deadline.tv_sec) * 1000 + Int64(deadline.tv_nsec) / 1_000_000 + Int64(o.timeoutSeconds) * 1000
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      var now = timespec()
      clock_gettime(CLOCK_MONOTONIC, &now)
      let left = end - (Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000)
      guard left > 0 else { throw noAgent(o, why: "no answer within \(o.timeoutSeconds) s") }
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      if poll(&p, 1, Int32(left)) <= 0 { continue }
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw noAgent(o, why: "QEMU closed the port") }
      if let rest = sync.feed(buffer[0..<n]) { return rest }
    }
  }

  private static func relay(
    _ socket: Int32, _ decoder: inout AgentFrameDecoder, _ terminal: inout ClientTerminal, _ o: ExecOptions
  ) throws(Failure) -> Int32 {
    var mask = sigset_t()
    cella_sigset_empty(&mask)
    for sig in signalsForwarded + [SIGWINCH] { cella_sigset_add(&mask, sig) }
    sigprocmask(SIG_BLOCK, &mask, nil)
    let signals = cella_signalfd(&mask)
    var inputOpen = true
    var buffer = [UInt8](repeating: 0, count: AgentProtocol.chunkSize)
    while true {
      while true {
        let next: AgentFrame?
        do { next = try decoder.next() } catch { throw Failure(message: "agent: \(error.message)") }
        guard let frame = next else { break }
        switch frame {
        case .stdout(let bytes): try? FileIO.writeAll(fd: terminal.output, bytes)
        case .stderr(let bytes): try? FileIO.writeAll(fd: terminal.errors, bytes)
        case .exit(let status): return status
        case .error(let status, let message):
          try? FileIO.writeAll(fd: 2, Array("cella-agent exec: \(message)\n".utf8))
          return status
        default: break
        }
      }
      var fds = [
        pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
        pollfd(fd: inputOpen ? terminal.input : -1, events: Int16(POLLIN), revents: 0),
        pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
      ]
      // With a terminal, its size is also checked every quarter second: a client that could not make the pty
      // its controlling terminal (it already led a process group) gets no SIGWINCH.
      if poll(&fds, nfds_t(fds.count), o.tty ? 250 : -1) < 0 {
        if errno == EINTR { continue }
        throw Failure(message: "poll: \(SysError.describe(errno))")
      }
      if fds[0].revents != 0 {
        let n = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
        if n > 0 {
          decoder.feed(buffer[0..<n])
        } else if n == 0 || errno != EINTR {
          throw Failure(message: "guest \(o.name ?? o.dir): the session ended without an exit status (the VM stopped?)")
        }
      }
      if fds[2].revents != 0 {
        while case let sig = cella_signalfd_read(signals), sig > 0 {
          // SIGWINCH needs nothing more: the size is compared below.
          if sig != SIGWINCH { try writeAll(socket, AgentFrame.signal(sig).encoded()) }
        }
      }
      if o.tty, let size = terminal.changedSize() {
        try writeAll(socket, AgentFrame.resize(rows: size.0, cols: size.1).encoded())
      }
      if fds[1].revents != 0 {
        let n = buffer.withUnsafeMutableBytes { read(terminal.input, $0.baseAddress, $0.count) }
        if n > 0 {
          try writeAll(socket, AgentFrame.stdin(Array(buffer[0..<n])).encoded())
        } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
          inputOpen = false
          try writeAll(socket, AgentFrame.stdinEOF.encoded())
        }
      }
    }
  }

  private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(Failure) {
    do { try FileIO.writeAll(fd: fd, bytes) } catch {
      throw Failure(message: "write to the agent port: \(error.reason)")
    }
  }
}
