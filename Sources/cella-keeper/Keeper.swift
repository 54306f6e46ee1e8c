import CShims
import CellaAPI
import CellaSys
import Glibc

/// One guest's keeper: parent and subreaper of its init, holder of its pty master and console history,
/// reporter of its exit. Single-threaded; everything happens in one poll loop.
final class Keeper {
  let options: Options
  /// The runtime's environment: the keeper's own, as the daemon gave it.
  private let environment: [String]
  /// Whether the result line went out (stdout is /dev/null from then on).
  private var reported = false
  private var devNull: Int32 = -1
  private var signals: Int32 = -1
  private var consoleListener: Int32 = -1
  private var master: Int32 = -1
  /// Children whose status the keeper waits for; every other child (an orphan of the guest) is just reaped.
  private var watched: [pid_t] = []
  /// Init's pid is known (orphans reaped from now on are not recorded).
  private var launched = false
  private var statuses: [(pid: pid_t, status: Int32)] = []
  /// A VM guest's event monitor (nil for containers).
  private var vmEvents: VMEvents?

  init(options: Options) {
    self.options = options
    var env: [String] = []
    var p = environ
    while let entry = p.pointee {
      env.append(String(cString: entry))
      p += 1
    }
    environment = env
  }

  // MARK: - failing

  /// The keeper's own failure: one line on stderr (keeper.log), `fail keeper 1` if no result went out yet.
  func die(_ error: KeeperError) -> Never {
    writeAll(2, Array("cella-keeper: error: \(error.message)\n".utf8))
    if !reported { report("fail keeper 1") }
    exit(1)
  }

  /// Writes the one result line for the daemon and closes the pipe (stdout becomes /dev/null).
  private func report(_ line: String) {
    reported = true
    writeAll(1, Array((line + "\n").utf8))
    if devNull >= 0 { dup2(devNull, 1) } else { close(1) }
  }

  // MARK: - setting up

  /// Everything up to the result line; returns keeper.sock's listener and init's pid. keeper.lock stays
  /// open and locked until the keeper exits (close-on-exec: no child holds it).
  func setUp() throws(KeeperError) -> (listener: Int32, initPID: pid_t) {
    devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
    if devNull < 0 { throw KeeperError("open /dev/null: \(describe(errno))") }
    let lock = open(Files.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    if lock < 0 { throw KeeperError("open \(Files.lock): \(describe(errno))") }
    // A daemon's liveness check holds a shared lock for a moment: retry for a while before deciding
    // that another keeper (which would hold it for good) is there.
    var tries = 0
    while flock(lock, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK || errno == EINTR else { throw KeeperError("flock \(Files.lock): \(describe(errno))") }
      tries += 1
      if tries > 100 { throw KeeperError("\(Files.lock): another keeper runs for this guest") }
      usleep(5_000)
    }
    // The previous run's exit must not pass for this one's.
    unlink(Files.exit)
    if cella_prctl(Prctl.setChildSubreaper, 1, 0, 0, 0) != 0 {
      throw KeeperError("prctl(PR_SET_CHILD_SUBREAPER): \(describe(errno))")
    }
    signal(SIGPIPE, SIG_IGN)
    var mask = sigset_t()
    cella_sigset_empty(&mask)
    cella_sigset_add(&mask, SIGCHLD)
    sigprocmask(SIG_BLOCK, &mask, nil)
    signals = cella_signalfd(&mask)
    if signals < 0 { throw KeeperError("signalfd: \(describe(errno))") }
    let listener = try Sockets.listen(Files.socket)
    // Listening before QEMU starts: it connects as it starts, and fails to start when nobody listens.
    if !options.vmEvents.isEmpty { vmEvents = try VMEvents(listening: options.vmEvents) }
    let initPID = try launch()
    return (listener, initPID)
  }

  /// `run --detach` (receiving the pty master): create and start in one runtime process, which saves a
  /// whole runtime start-up per guest start; init is reparented to this keeper (a subreaper) when the
  /// runtime exits. Reports the result; a failure is reported and the container deleted before the
  /// keeper exits 1.
  private func launch() throws(KeeperError) -> pid_t {
    consoleListener = try Sockets.listen(Files.consoleSocket)
    unlink(Files.initPID)
    let preserved = (0..<options.preserveFDs).map { 3 + Int32($0) }
    let run = try runtime(
      [
        "run", "--detach", "--bundle", options.bundle, "--console-socket", Files.consoleSocket, "--pid-file",
        Files.initPID,
      ] + (preserved.isEmpty ? [] : ["--preserve-fds", String(preserved.count)]) + [options.id], passing: preserved)
    let status = wait(for: run)
    // They are the guest's now; the keeper holding them would keep a tap alive past its VM.
    preserved.forEach { _ = close($0) }
    // The runtime sends the master before it returns, so it is queued on the listener by now.
    if status == 0 && master < 0 && Sockets.readable(consoleListener, within: 1000) { takeMaster() }
    close(consoleListener)
    consoleListener = -1
    unlink(Files.consoleSocket)
    guard status == 0 else { failRuntime("start", status: status) }
    guard master >= 0 else {
      deleteContainer()
      throw KeeperError("\(Files.consoleSocket): the runtime sent no pty master (process.terminal must be true)")
    }
    let text = (try? FileIO.readString(Files.initPID)) ?? ""
    unlink(Files.initPID)
    guard let initPID = pid_t(text.trimmingCharacters(in: " \n")), initPID > 0 else {
      deleteContainer()
      throw KeeperError("\(Files.initPID): no pid after run (\"\(text)\")")
    }
    watched.append(initPID)
    launched = true
    // Statuses kept while init's pid was unknown: only init's matters now.
    statuses.removeAll { $0.pid != initPID }
    report("ok \(initPID)")
    return initPID
  }

  /// Reports a failed runtime verb, deletes whatever it left and exits 1.
  private func failRuntime(_ verb: String, status: Int32) -> Never {
    report("fail \(verb) \(Processes.exitCode(status: status))")
    deleteContainer()
    exit(1)
  }

  private func deleteContainer() {
    if let pid = try? runtime(["delete", "--force", options.id]) { _ = wait(for: pid) }
  }

  /// Spawns `RUNTIME --root R --log runtime.log --log-format json ARGS` with stdin /dev/null, stdout
  /// and stderr on keeper.log, and no other fd.
  private func runtime(_ arguments: [String], passing: [Int32] = []) throws(KeeperError) -> pid_t {
    let argv =
      [options.runtime, "--root", options.root, "--log", Files.runtimeLog, "--log-format", "json"] + arguments
    do {
      let pid = try Spawn.start(
        path: options.runtime, argv: argv, env: environment, stdin: devNull, stdout: 2, stderr: 2, closeOthers: true,
        passing: passing)
      watched.append(pid)
      return pid
    } catch {
      throw KeeperError("run \(options.runtime): \(error.message)")
    }
  }

  /// Waits for a child the keeper spawned, reaping everything else meanwhile and taking the pty master
  /// when the runtime sends it; returns the raw wait status.
  private func wait(for pid: pid_t) -> Int32 {
    while true {
      reapAll()
      if let status = takeStatus(pid) { return status }
      var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
      if consoleListener >= 0 && master < 0 {
        fds.append(pollfd(fd: consoleListener, events: Int16(POLLIN), revents: 0))
      }
      if poll(&fds, nfds_t(fds.count), -1) < 0 && errno != EINTR { die(KeeperError("poll: \(describe(errno))")) }
      if fds.count > 1 && fds[1].revents != 0 { takeMaster() }
    }
  }

  /// Accepts the runtime's connection on console.sock and keeps the fd it carries (non-blocking).
  private func takeMaster() {
    let conn = Sockets.accept(consoleListener)
    guard conn >= 0 else { return }
    defer { close(conn) }
    // Connected is not sent yet: closing before the message arrives would fail the runtime's send.
    guard Sockets.readable(conn, within: 10_000) else { return }
    var name = [UInt8](repeating: 0, count: 256)
    var fd: Int32 = -1
    let n = name.withUnsafeMutableBytes { cella_recv_with_fd(conn, $0.baseAddress, $0.count, &fd) }
    guard n >= 0, fd >= 0 else { return }
    if master >= 0 { close(master) }
    master = fd
    _ = cella_fcntl(master, F_SETFL, cella_fcntl(master, F_GETFL, 0) | O_NONBLOCK)
  }

  /// Reaps every ended child (the keeper is a subreaper: the guest's orphans end up here); keeps the
  /// statuses of watched ones, and of the first orphans reaped before init's pid is known (after
  /// `run --detach`, init may have ended and been reparented here before the pid file was read).
  private func reapAll() {
    while cella_signalfd_read(signals) > 0 {}
    while true {
      var status: Int32 = 0
      let pid = waitpid(-1, &status, WNOHANG)
      if pid < 0 && errno == EINTR { continue }
      if pid <= 0 { return }
      if watched.contains(pid) || (!launched && statuses.count < 16) { statuses.append((pid, status)) }
    }
  }

  private func takeStatus(_ pid: pid_t) -> Int32? {
    guard let i = statuses.firstIndex(where: { $0.pid == pid }) else { return nil }
    watched.removeAll { $0 == pid }
    return statuses.remove(at: i).status
  }

  // MARK: - serving

  /// The poll loop until init ends: console output to the log and the clients, client input to the
  /// terminal, children reaped. Then exit.json, the exit frame, exit 0.
  func serve(listener: Int32, initPID: pid_t) -> Never {
    var log: ConsoleLog
    do { log = try ConsoleLog(max: options.logMax) } catch { die(error) }
    var clients: [Client] = []
    var toGuest: [UInt8] = []
    var masterOpen = true
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 8)
    let maxToGuest = 64 << 10

    func broadcast(_ frame: StreamFrame) {
      let bytes = frame.encoded
      clients.removeAll { !$0.send(bytes) }
    }
    func acceptAll() {
      while true {
        let fd = Sockets.accept(listener)
        if fd < 0 { break }
        clients.append(Client(fd: fd))
      }
    }
    func readConsole() {
      while masterOpen {
        let n = read(master, scratch.baseAddress, scratch.count)
        if n > 0 {
          let got = UnsafeRawBufferPointer(rebasing: scratch[0..<n])
          log.append(got)
          broadcast(StreamFrame(.stdout, Array(got)))
          continue
        }
        if n < 0 && errno == EINTR { continue }
        // EIO: no process holds the terminal any more; it reports POLLHUP from now on, so stop polling it.
        if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { masterOpen = false }
        return
      }
    }

    reapAll()
    var initStatus = takeStatus(initPID)
    while initStatus == nil {
      var fds = [
        pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
        pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
        pollfd(
          fd: masterOpen ? master : -1, events: Int16(POLLIN) | (toGuest.isEmpty ? 0 : Int16(POLLOUT)), revents: 0),
      ]
      let eventsIndex = fds.count
      if let events = vmEvents, events.isOpen {
        fds.append(pollfd(fd: events.pollFD, events: Int16(POLLIN), revents: 0))
      }
      let clientsStart = fds.count
      let takeInput = toGuest.count < maxToGuest
      // What the loop below walks: broadcasting may drop clients from `clients` meanwhile.
      let polled = clients
      for c in polled {
        let events = (takeInput ? Int16(POLLIN) : 0) | (c.hasPending ? Int16(POLLOUT) : 0)
        fds.append(pollfd(fd: c.fd, events: events, revents: 0))
      }
      if poll(&fds, nfds_t(fds.count), -1) < 0 {
        if errno == EINTR { continue }
        die(KeeperError("poll: \(describe(errno))"))
      }
      if fds[2].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { readConsole() }
      var dropped: [Int32] = []
      for (i, c) in polled.enumerated() {
        let revents = fds[clientsStart + i].revents
        if revents == 0 { continue }
        if revents & Int16(POLLOUT) != 0 && !c.flush() {
          dropped.append(c.fd)
          continue
        }
        guard revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 else { continue }
        guard let frames = c.receive(into: scratch) else {
          dropped.append(c.fd)
          continue
        }
        for frame in frames {
          switch frame.kind {
          case .stdin: toGuest.append(contentsOf: frame.payload)
          case .resize:
            if let size = frame.size { _ = cella_set_winsize(master, UInt16(size.rows), UInt16(size.cols)) }
          default: break
          }
        }
      }
      if !dropped.isEmpty { clients.removeAll { dropped.contains($0.fd) } }
      if clientsStart > eventsIndex && fds[eventsIndex].revents != 0 { vmEvents?.service() }
      if !toGuest.isEmpty && masterOpen {
        let n = toGuest.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
        if n > 0 {
          toGuest.removeFirst(n)
        } else if n < 0 && errno != EAGAIN && errno != EINTR {
          toGuest.removeAll()
        }
      }
      if fds[1].revents != 0 { acceptAll() }
      if fds[0].revents != 0 {
        reapAll()
        initStatus = takeStatus(initPID)
      } else if statuses.contains(where: { $0.pid == initPID }) {
        initStatus = takeStatus(initPID)
      }
    }
    readConsole()
    // QEMU wrote its last events before it exited: they are in the socket already.
    if vmEvents?.isOpen == true && vmEvents!.pollFD >= 0 && Sockets.readable(vmEvents!.pollFD, within: 0) {
      vmEvents!.service()
    }
    let record = exitRecord(initStatus!)
    do {
      try FileIO.writeAtomically(directory: ".", name: Files.exit, Array(record.utf8), mode: 0o644)
    } catch {
      die(KeeperError("write \(Files.exit): \(error.message)"))
    }
    // A client that connected while init was ending still learns how it ended.
    acceptAll()
    broadcast(StreamFrame(.exit, Array(record.utf8)))
    // Give clients a moment to take the last output; then they are closed whatever they did.
    var rounds = 0
    while rounds < 20 && clients.contains(where: { $0.hasPending }) {
      var fds = clients.filter { $0.hasPending }.map { pollfd(fd: $0.fd, events: Int16(POLLOUT), revents: 0) }
      _ = poll(&fds, nfds_t(fds.count), 100)
      clients.removeAll { !$0.flush() }
      rounds += 1
    }
    clients.removeAll()
    unlink(Files.socket)
    exit(0)
  }

  /// exit.json: `{"code":N,"time":"…"}` or `{"signal":N,"time":"…"}`, with a VM's `"event":"guest-reset"`
  /// (QEMU's shutdown reason; VMEvents keeps it to a word).
  private func exitRecord(_ status: Int32) -> String {
    let field =
      cella_wifsignaled(status) != 0 ? "\"signal\":\(cella_wtermsig(status))" : "\"code\":\(cella_wexitstatus(status))"
    let event = vmEvents?.reason.map { ",\"event\":\"\($0)\"" } ?? ""
    return "{\(field)\(event),\"time\":\"\(rfc3339Now(nanoseconds: false))\"}"
  }
}
