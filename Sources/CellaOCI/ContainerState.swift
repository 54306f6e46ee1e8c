/// The lifecycle status of a container.
public enum ContainerStatus: String, Codable, Sendable, CaseIterable {
  case creating
  case created
  case running
  case stopped
  case paused

  /// `start` is allowed only on a created container.
  public var canStart: Bool { self == .created }
  /// `kill` is allowed on created, running and paused containers.
  public var canKill: Bool { self == .created || self == .running || self == .paused }
  /// `delete` (without --force) is allowed only on a stopped container.
  public var canDelete: Bool { self == .stopped }
  /// `exec` is allowed only on a running container.
  public var canExec: Bool { self == .running }
  /// `pause` is allowed only on a running container.
  public var canPause: Bool { self == .running }
  /// `resume` is allowed only on a paused container.
  public var canResume: Bool { self == .paused }
}

/// The JSON the `state` verb prints: the OCI state plus runc's `rootfs`,
/// `created` (RFC 3339) and `owner`.
public struct ContainerState: Codable, Sendable, Equatable {
  public var ociVersion: String
  public var id: String
  /// One of creating, created, running, stopped, paused.
  public var status: String
  /// The container's init pid on the host, 0 when there is none.
  public var pid: Int32
  public var bundle: String
  public var rootfs: String
  public var created: String
  public var owner: String
  public var annotations: [String: String]?

  enum CodingKeys: String, CodingKey {
    case ociVersion, id, pid, status, bundle, rootfs, created, owner, annotations
  }

  public init(
    ociVersion: String = OCIVersion.current, id: String, status: String, pid: Int32 = 0, bundle: String,
    rootfs: String = "", created: String = "", owner: String = "", annotations: [String: String]? = nil
  ) {
    self.ociVersion = ociVersion
    self.id = id
    self.status = status
    self.pid = pid
    self.bundle = bundle
    self.rootfs = rootfs
    self.created = created
    self.owner = owner
    self.annotations = annotations
  }

  public init(
    ociVersion: String = OCIVersion.current, id: String, status: ContainerStatus, pid: Int32 = 0, bundle: String,
    rootfs: String = "", created: String = "", owner: String = "", annotations: [String: String]? = nil
  ) {
    self.init(
      ociVersion: ociVersion, id: id, status: status.rawValue, pid: pid, bundle: bundle, rootfs: rootfs,
      created: created, owner: owner, annotations: annotations)
  }

  /// Reads both runc's state and a bare OCI state (as given to hooks),
  /// where pid, rootfs, created and owner may be absent.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    ociVersion = try c.decode(String.self, forKey: .ociVersion)
    id = try c.decode(String.self, forKey: .id)
    status = try c.decode(String.self, forKey: .status)
    pid = try c.decodeIfPresent(Int32.self, forKey: .pid) ?? 0
    bundle = try c.decode(String.self, forKey: .bundle)
    rootfs = try c.decodeIfPresent(String.self, forKey: .rootfs) ?? ""
    created = try c.decodeIfPresent(String.self, forKey: .created) ?? ""
    owner = try c.decodeIfPresent(String.self, forKey: .owner) ?? ""
    annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
  }

  /// The typed status, nil if `status` holds an unknown string.
  public var containerStatus: ContainerStatus? { ContainerStatus(rawValue: status) }

  /// The state as the runtime-spec defines it, without runc's extra fields:
  /// what hooks receive on stdin. Compact JSON, no trailing newline.
  public func ociStateJSON() -> [UInt8] {
    struct Bare: Encodable {
      var ociVersion: String
      var id: String
      var status: String
      var pid: Int32?
      var bundle: String
      var annotations: [String: String]?
    }
    let bare = Bare(
      ociVersion: ociVersion, id: id, status: status, pid: pid > 0 ? pid : nil, bundle: bundle,
      annotations: annotations)
    return OCIJSON.encode(bare, pretty: false, trailingNewline: false)
  }
}
