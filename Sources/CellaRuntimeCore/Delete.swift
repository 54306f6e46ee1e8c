import CShims
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
      throw RuntimeError("container \"\(id)\" does not exist", kind: .notFound)
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
          "cannot delete container \"\(id)\": it is \(status.rawValue), not stopped (kill it first, or use --force)",
          kind: .invalidState)
      }
      if status == .paused, let path = record.cgroupPath { try? hostCgroups.thaw(path) }
      signalAll(record, SIGKILL)
      try signalInit(record, SIGKILL)
      try waitForExit(record)
    }
    if let path = record.cgroupPath {
      // Init is gone. Without a pid namespace of its own, whatever is left in its cgroup belongs to the
      // container (the cgroup was empty when create took it) and goes with it. With one, the kernel
      // killed everything of the container when init died: anything still there is someone else's.
      let problems = removeCgroup(path, leaf: record.cgroupLeafMade ?? true, killLeftovers: !record.ownPIDNamespace)
      if let leaf = problems.leaf { throw leaf }
      for problem in problems.parents { log.warning(problem) }
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

  /// Waits until init is gone (or a zombie) by polling its pidfd; SIGKILL cannot be refused, so
  /// this is short unless init is stuck in the kernel.
  func waitForExit(_ record: ContainerRecord) throws(RuntimeError) {
    let pidfd = cella_pidfd_open(record.pid, 0)
    if pidfd < 0 { return }  // ESRCH: gone and reaped
    defer { close(pidfd) }
    // Opened after the pid could have been reused: only the recorded process is waited for.
    guard record.initIsAlive else { return }
    if !ExitWait.all([pidfd], timeoutMillis: Self.exitTimeoutMillis) {
      throw RuntimeError(
        "container \"\(record.id)\" (pid \(record.pid)) did not die within \(Self.exitTimeoutMillis / 1000)s of SIGKILL",
        kind: .system
      )
    }
  }

  /// How long delete waits for killed processes to exit.
  static let exitTimeoutMillis: Int64 = 10_000
}

extension Lifecycle {
  /// What `removeCgroup` could not do.
  package struct CgroupRemovalProblems {
    /// The container's own cgroup stayed.
    package var leaf: RuntimeError?
    /// Parents create made that hold no cgroup and still stayed, one line each.
    package var parents: [String] = []
    /// Every problem, one line each.
    package var lines: [String] { (leaf.map { [$0.message] } ?? []) + parents }
  }

  /// Removes a container's cgroup and then the parents its create made that no other container uses.
  /// Only a cgroup create made is removed (`leaf`); with `killLeftovers`, what is still in it is the
  /// container's and is killed (a cgroup create did not make stays, emptied). Every step is tried
  /// even after another failed, so that a failure leaves as little as it can.
  package func removeCgroup(_ path: String, leaf: Bool, killLeftovers: Bool) -> CgroupRemovalProblems {
    let cgroups = hostCgroups
    var problems = CgroupRemovalProblems()
    // Killed first: rmdir of a cgroup with live tasks only fails after the driver's EBUSY retries.
    if killLeftovers { killUntilEmpty(path) }
    if leaf {
      do { try cgroups.destroy(path) } catch { problems.leaf = RuntimeError(error) }
    }
    do {
      problems.parents = try store.withCgroupParents { parents throws(RuntimeError) in
        try parents.removeEmpty(above: cgroups.directories(path))
      }
    } catch { problems.parents.append(error.message) }
    return problems
  }

  /// SIGKILLs what is in the cgroup `path` and waits on pidfds (bounded) until those are gone; no
  /// sleep loop (the core may run on a daemon's thread).
  private func killUntilEmpty(_ path: String) {
    let cgroups = hostCgroups
    let deadline = monotonicMillis() + Self.exitTimeoutMillis
    // A few rounds: a process may fork while it is being killed.
    for _ in 0..<8 {
      let handles = ExitWait.open(cgroups.processes(path))
      if handles.isEmpty { return }
      defer { for h in handles { close(h.fd) } }
      // Pinned first, checked after: a pid that left the cgroup (and may be reused) is not signalled.
      let still = Set(cgroups.processes(path))
      let members = handles.filter { still.contains($0.pid) }
      for h in members { _ = cella_pidfd_send_signal(h.fd, SIGKILL, 0) }
      if !ExitWait.all(members.map(\.fd), timeoutMillis: max(0, deadline - monotonicMillis())) { return }
    }
  }
}
