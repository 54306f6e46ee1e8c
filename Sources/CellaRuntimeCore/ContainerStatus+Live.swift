import CellaCgroups
import CellaOCI
import CellaSys

extension ContainerRecord {
  /// Whether the recorded init process is alive (same pid, same start time, not a zombie).
  public var initIsAlive: Bool {
    pid > 0 && Processes.isRunning(pid: pid, startTime: pidStartTime)
  }

  /// The status the OCI `state` operation reports, from the phase and the live process.
  public var status: ContainerStatus {
    guard initIsAlive else { return .stopped }
    switch phase {
    case .creating: return .creating
    case .created: return .created
    case .started:
      if let path = cgroupPath, hostCgroups.isFrozen(path) { return .paused }
      return .running
    }
  }

  /// The OCI state document for hooks and the `state` verb.
  public func state(status: ContainerStatus? = nil) -> ContainerState {
    let s = status ?? self.status
    return ContainerState(
      ociVersion: ociVersion, id: id, status: s.rawValue, pid: s == .stopped ? 0 : pid, bundle: bundle,
      rootfs: rootfs, created: created, owner: owner, annotations: annotations)
  }
}
