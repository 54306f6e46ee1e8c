import CellaOCI
import CellaSecurity
import CellaSys
import Glibc

extension Lifecycle {
  /// `start`: releases a created container's init to run the user program, then runs poststart hooks.
  public func start(id: String) throws(RuntimeError) {
    let lock = try store.lock(id)
    defer { close(lock) }
    var record = try store.load(id)
    let status = record.status
    guard status.canStart else {
      throw RuntimeError("cannot start container \"\(id)\": it is \(status.rawValue), not created")
    }
    let spec = record.startReadsConfig == false ? Spec(ociVersion: record.ociVersion) : try store.loadConfig(id)
    let conn = Packet.socket()
    if conn < 0 { throw RuntimeError("socket: \(SysError.describe(errno))") }
    let channel = Packet(fd: conn)
    defer { channel.close() }
    let dir = open(store.directory(id), O_PATH | O_DIRECTORY | O_CLOEXEC)
    defer { if dir >= 0 { close(dir) } }
    let rc = withSocketAddress("/proc/self/fd/\(dir)/start.sock") { connect(conn, $0, $1) }
    if rc != 0 {
      throw RuntimeError("cannot reach the init of \"\(id)\" (\(SysError.describe(errno))); it may have exited")
    }
    let createdState = try stateJSON(record.state(status: .created))
    try RuntimeError.wrap("start \"\(id)\"") { try channel.send(InitMessage.start(state: createdState)) }
    while true {
      let received = try RuntimeError.wrap("start \"\(id)\"") { try channel.receiveMessageWithFD() }
      guard let (reply, fd) = received else { break }  // EOF: exec succeeded and closed the socket
      if reply == .seccompListener, fd >= 0 {
        defer { close(fd) }
        try forwardSeccompListener(fd, spec: spec, pid: record.pid, state: createdState)
        continue
      }
      if fd >= 0 { close(fd) }
      if case .error(let text) = reply {
        throw RuntimeError(text, exitCode: text.contains("not found") || text.contains("no such file") ? 127 : 1)
      }
    }
    // EOF without a message: exec succeeded and closed the socket.
    record.phase = .started
    try store.save(record)
    unlink("\(store.directory(id))/start.sock")
    if !record.initIsAlive && record.pid > 0 {
      log.debug("container \(id) exited right after start")
    }
    let state = try stateJSON(record.state(status: .running))
    for failure in HookRunner.runAll(spec.hooks?.poststart ?? [], point: .poststart, state: state) {
      log.warning(failure.message)
    }
  }
}

extension Lifecycle {
  /// Hands a seccomp notify fd to the listener at linux.seccomp.listenerPath, with the container state.
  package func forwardSeccompListener(_ fd: Int32, spec: Spec, pid: Int32, state: String) throws(RuntimeError) {
    guard let path = spec.linux?.seccomp?.listenerPath else {
      throw RuntimeError("linux.seccomp: a notify filter was loaded but listenerPath is not set")
    }
    do {
      try SeccompNotify.send(
        listenerFD: fd, listenerPath: path, metadata: spec.linux?.seccomp?.listenerMetadata, pid: pid, stateJSON: state)
    } catch { throw RuntimeError("linux.seccomp.listenerPath \(path): \(error.message)") }
  }
}
