import CellaOCI

/// How far a container's lifecycle has gone; the live status also depends on whether its process runs.
public enum Phase: String, Codable, Sendable {
  /// `create` is still at work (or was killed while at work).
  case creating
  /// `create` finished; the init process waits for `start`.
  case created
  /// `start` released the user process.
  case started
}

/// What the runtime keeps about one container in `<root>/<id>/state.json`.
public struct ContainerRecord: Codable, Sendable, Equatable {
  public var id: String
  public var ociVersion: String
  public var bundle: String
  public var rootfs: String
  public var phase: Phase
  /// Host pid of the container's init process, 0 before it exists.
  public var pid: Int32
  /// The pids a record may hold (0: not cloned yet).
  static let pids: ClosedRange<Int32> = 0...Int32.max
  /// Start time (clock ticks since boot) of `pid`, so a reused pid is never mistaken for ours.
  public var pidStartTime: UInt64
  /// Whether the container has its own pid namespace (then killing init ends everything).
  public var ownPIDNamespace: Bool
  /// RFC 3339 creation time.
  public var created: String
  public var owner: String
  public var annotations: [String: String]?
  /// The container's cgroup (recorded before it is created, so a killed create can be cleaned up);
  /// set only once create has checked that a cgroup already there is empty, so nothing in it now is
  /// anyone else's.
  public var cgroupPath: String?
  /// Whether create made the cgroup's own directory (recorded before its mkdir); delete removes only
  /// a cgroup it made. nil in records of older versions, which made it.
  public var cgroupLeafMade: Bool?
  /// The bind of root.path on the host made for a container without its own mount namespace
  /// (recorded before it is attached; delete detaches it with everything mounted under it).
  public var hostRootfsMount: HostMount?
  /// Whether `start` needs the config copy (poststart hooks, a seccomp listener); decoding it costs time.
  public var startReadsConfig: Bool?
  /// Whether `delete` needs the config copy (poststop hooks).
  public var deleteReadsConfig: Bool?

  public init(
    id: String, ociVersion: String, bundle: String, rootfs: String, created: String, owner: String,
    annotations: [String: String]?, ownPIDNamespace: Bool
  ) {
    self.id = id
    self.ociVersion = ociVersion
    self.bundle = bundle
    self.rootfs = rootfs
    self.phase = .creating
    self.pid = 0
    self.pidStartTime = 0
    self.ownPIDNamespace = ownPIDNamespace
    self.created = created
    self.owner = owner
    self.annotations = annotations
  }
}
