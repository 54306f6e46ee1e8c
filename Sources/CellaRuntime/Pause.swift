import CellaCgroups
import CellaOCI

extension Lifecycle {
  /// `pause`: freezes every process of a running container (v1 freezer, v2 cgroup.freeze).
  public func pause(id: String) throws(RuntimeError) {
    let record = try store.load(id)
    let status = record.status
    guard status.canPause else {
      throw RuntimeError("cannot pause container \"\(id)\": it is \(status.rawValue), not running")
    }
    guard let path = record.cgroupPath else { throw RuntimeError("cannot pause \"\(id)\": it has no cgroup") }
    do { try hostCgroups.freeze(path) } catch { throw RuntimeError(error.message) }
  }

  /// `resume`: thaws a paused container.
  public func resume(id: String) throws(RuntimeError) {
    let record = try store.load(id)
    let status = record.status
    guard status.canResume else {
      throw RuntimeError("cannot resume container \"\(id)\": it is \(status.rawValue), not paused")
    }
    guard let path = record.cgroupPath else { throw RuntimeError("cannot resume \"\(id)\": it has no cgroup") }
    do { try hostCgroups.thaw(path) } catch { throw RuntimeError(error.message) }
  }
}
