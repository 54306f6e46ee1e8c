import CellaOCI
import CellaSys
import Glibc

extension Lifecycle {
  /// `delete`: removes a stopped container (with `force`, kills it first) and runs poststop hooks.
  ///
  /// The spec requires deleting a container that is not stopped to fail without changing it;
  /// unlike runc and crun we hold to that for `created` containers too.
  public func delete(id: String, force: Bool) throws(RuntimeError) {
    guard store.exists(id) else {
      if force { return }
      throw RuntimeError("container \"\(id)\" does not exist")
    }
    let lock = try store.lock(id)
    defer { close(lock) }
    let record: ContainerRecord
    do { record = try store.load(id) } catch {
      // A create killed before its first save leaves a directory without state: only --force clears it.
      guard force else { throw error }
      try store.remove(id)
      return
    }
    let status = record.status
    if !status.canDelete {
      guard force else {
        throw RuntimeError(
          "cannot delete container \"\(id)\": it is \(status.rawValue), not stopped (kill it first, or use --force)")
      }
      signalAll(record, SIGKILL)
      try signalInit(record, SIGKILL)
      try waitForExit(record)
    }
    let spec = try? store.loadConfig(id)
    try store.remove(id)
    // Poststop runs after the container is destroyed; failures are warnings (runtime.md, step 13).
    if let hooks = spec?.hooks?.poststop, !hooks.isEmpty {
      let state = try stateJSON(record.state(status: .stopped))
      for failure in HookRunner.runAll(hooks, point: .poststop, state: state) { log.warning(failure.message) }
    }
  }

  /// Waits until init is gone (or a zombie); SIGKILL cannot be refused, so this is short.
  func waitForExit(_ record: ContainerRecord) throws(RuntimeError) {
    var delay: UInt32 = 200
    for _ in 0..<400 {
      if !record.initIsAlive { return }
      usleep(delay)
      delay = min(delay * 2, 50_000)
    }
    throw RuntimeError("container \"\(record.id)\" (pid \(record.pid)) did not die after SIGKILL")
  }
}
