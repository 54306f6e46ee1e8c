import CellaCgroups
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
      if status == .paused, let path = record.cgroupPath { try? hostCgroups.thaw(path) }
      signalAll(record, SIGKILL)
      try signalInit(record, SIGKILL)
      try waitForExit(record)
    }
    if let path = record.cgroupPath {
      // Init is gone; whatever is left in its cgroup belongs to the container and goes with it. With
      // its own pid namespace, the kernel already killed everything when init died.
      if !record.ownPIDNamespace { signalAll(record, SIGKILL) }
      try destroyCgroup(path)
    }
    // Without a mount namespace the container's mounts are the host's: they go before the record does.
    if let mount = record.hostRootfsMount { try HostRootfs.detach(mount) }
    let spec = record.deleteReadsConfig == false ? nil : try? store.loadConfig(id)
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

extension Lifecycle {
  /// Removes a container's cgroup, waiting briefly for killed processes to leave it, and then the
  /// parents its create made that no other container uses.
  public func destroyCgroup(_ path: String) throws(RuntimeError) {
    let cgroups = hostCgroups
    if (try? cgroups.destroy(path)) == nil {
      var delay: UInt32 = 500
      for _ in 0..<60 {
        if cgroups.processes(path).isEmpty { break }
        for pid in cgroups.processes(path) { Glibc.kill(pid, SIGKILL) }
        usleep(delay)
        delay = min(delay * 2, 50_000)
      }
      do { try cgroups.destroy(path) } catch { throw RuntimeError(error.message) }
    }
    try store.withCgroupParents { parents throws(RuntimeError) in
      try parents.removeEmpty(above: cgroups.directories(path))
    }
  }
}
