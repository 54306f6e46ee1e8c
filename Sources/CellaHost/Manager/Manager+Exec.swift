import CellaAPI
import CellaSys
import Foundation

extension Manager {
  /// How long a prepared exec waits for its client to attach.
  static let execSessionLifetime = 60.0

  public func prepareExec(_ name: String, _ request: ExecRequest) throws -> ExecSession {
    let record = try loadRecord(name)
    guard KeeperLink.isAlive(paths: layout.guest(name)) else {
      throw HostError(.invalidState, "guest \"\(name)\" is not running")
    }
    if request.login != true && request.command.isEmpty {
      throw HostError(.invalidArgument, "exec: no command given")
    }
    for e in request.env ?? [] where !e.contains("=") || e.hasPrefix("=") {
      throw HostError(.invalidArgument, "--env: \"\(e)\" is not KEY=VALUE")
    }
    if let cwd = request.cwd, !cwd.hasPrefix("/") {
      throw HostError(.invalidArgument, "--cwd: \"\(cwd)\" is not an absolute path")
    }
    if let user = request.user {
      _ = record.kind == .vm ? try Self.vmExecUser(user) : try execUser(user, guest: name)
    }
    let id = (0..<4).map { _ in String(UInt32.random(in: 0...UInt32.max), radix: 16) }.joined()
    let now = Date().timeIntervalSince1970
    execSessions.withLock { sessions in
      sessions = sessions.filter { now - $0.value.created < Self.execSessionLifetime }
      sessions[id] = PendingExec(guest: name, kind: record.kind, request: request, created: now)
    }
    return ExecSession(id: id)
  }

  public func startExec(_ id: String) throws -> ExecProcess {
    guard let pending = execSessions.withLock({ $0.removeValue(forKey: id) }) else {
      throw HostError(.notFound, "exec session \"\(id)\" does not exist (or was used or expired)")
    }
    let name = pending.guest
    let request = pending.request
    let paths = layout.guest(name)
    guard KeeperLink.isAlive(paths: paths) else { throw HostError(.invalidState, "guest \"\(name)\" is not running") }
    if pending.kind == .vm { return try startVMExec(name, request, paths) }
    var argv = [options.runtimePath, "--root", layout.runtimeRoot, "exec"]
    for e in request.env ?? [] { argv += ["--env", e] }
    if let cwd = request.cwd { argv += ["--cwd", cwd] }
    if let user = request.user { argv += ["--user", try execUser(user, guest: name)] }
    let command = request.login == true ? loginShell(name) : request.command
    if request.tty == true || request.login == true {
      return try ExecTerminal.spawn(
        argv: argv, id: name, command: command, rows: request.rows, cols: request.cols, directory: paths.dir)
    }
    argv += [name, "--"] + command
    return try ExecPipes.spawn(argv: argv)
  }

  public func resizeExec(_ process: ExecProcess, rows: Int, cols: Int) {
    if let t = process.terminal { ExecTerminal.resize(t, rows: rows, cols: cols) }
  }

  public func waitExec(_ process: ExecProcess) -> ExecExit {
    while true {
      var status: Int32 = 0
      let r = waitpid(process.pid, &status, 0)
      if r < 0 {
        if errno == EINTR { continue }
        return ExecExit(error: APIError(.system, "wait for exec: \(String(cString: strerror(errno)))"))
      }
      if (status & 0x7f) == 0 { return ExecExit(code: Int((status >> 8) & 0xff)) }
      return ExecExit(signal: Int(status & 0x7f))
    }
  }

  /// An exec in a VM: `cella-agent exec` on the host speaks to the guest's agent over a virtio-serial port
  /// and behaves to the daemon like `cella-runtime exec` (pipes, or a pty handed over a console socket).
  func startVMExec(_ name: String, _ request: ExecRequest, _ paths: GuestPaths) throws(HostError) -> ExecProcess {
    var argv = [options.agentPath, "exec", "--dir", paths.vm, "--name", name]
    for e in request.env ?? [] { argv += ["--env", e] }
    if let cwd = request.cwd { argv += ["--cwd", cwd] }
    if let user = request.user { argv += ["--user", try Self.vmExecUser(user)] }
    let command = request.login == true ? ["/bin/sh", "-l"] : request.command
    if request.tty == true || request.login == true {
      return try ExecTerminal.spawn(
        argv: argv, id: nil, command: command, rows: request.rows, cols: request.cols, directory: paths.dir)
    }
    return try ExecPipes.spawn(argv: argv + ["--"] + command)
  }

  /// `uid:gid` for the agent: numbers only (the VM's passwd is inside it); a uid alone is its own gid.
  static func vmExecUser(_ user: String) throws(HostError) -> String {
    let parts = user.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count <= 2, parts.allSatisfy({ UInt32($0) != nil }) else {
      throw HostError(.invalidArgument, "--user: \"\(user)\": a VM takes uid[:gid] numbers (its passwd is inside it)")
    }
    return parts.count == 2 ? user : user + ":" + user
  }

  /// `uid[:gid]` for the runtime: numbers pass; a user name is looked up in the guest's /etc/passwd.
  func execUser(_ user: String, guest: String) throws(HostError) -> String {
    let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    if parts.count == 2 && parts.allSatisfy({ UInt32($0) != nil }) { return user }
    // A name, or a uid alone (its group comes from the guest's passwd, as login would give it).
    do {
      let user = try ImageUser.resolve(user, root: layout.guest(guest).rootfs, guest: guest)
      return "\(user.uid):\(user.gid)"
    } catch {
      throw HostError(.invalidArgument, "--user: \(error.message)")
    }
  }

  /// `cella enter`: bash when the guest has it, else sh; as a login shell.
  func loginShell(_ guest: String) -> [String] {
    let rootfs = layout.guest(guest).rootfs
    var st = stat()
    if lstat(rootfs + "/bin/bash", &st) == 0 { return ["/bin/bash", "-l"] }
    return ["/bin/sh", "-l"]
  }
}
