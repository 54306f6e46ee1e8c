import CellaCgroups
import CellaOCI

extension Lifecycle {
  /// `pause`: freezes every process of a running container (v1 freezer, v2 cgroup.freeze).
  public func pause(id: String) throws(RuntimeError) {
    try setFrozen(id: id, true)
  }

  /// `resume`: thaws a paused container.
  public func resume(id: String) throws(RuntimeError) {
    try setFrozen(id: id, false)
  }

  private func setFrozen(id: String, _ frozen: Bool) throws(RuntimeError) {
    let record = try store.load(id)
    let status = record.status
    let (verb, allowed, wanted) =
      frozen ? ("pause", status.canPause, "running") : ("resume", status.canResume, "paused")
    guard allowed else {
      throw RuntimeError("cannot \(verb) container \"\(id)\": it is \(status.rawValue), not \(wanted)")
    }
    guard let path = record.cgroupPath else { throw RuntimeError("cannot \(verb) \"\(id)\": it has no cgroup") }
    do {
      if frozen { try hostCgroups.freeze(path) } else { try hostCgroups.thaw(path) }
    } catch { throw RuntimeError(error.message) }
  }
}
