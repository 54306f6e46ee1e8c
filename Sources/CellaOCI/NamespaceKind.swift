/// The Linux namespaces a config can ask for, keyed by their OCI spelling.
public enum NamespaceKind: String, CaseIterable, Sendable {
  case pid
  case network
  case mount
  case ipc
  case uts
  case user
  case cgroup
  case time

  /// The `CLONE_NEW*` flag for clone(2), unshare(2) and setns(2).
  public var cloneFlag: Int32 {
    switch self {
    case .pid: return 0x2000_0000
    case .network: return 0x4000_0000
    case .mount: return 0x0002_0000
    case .ipc: return 0x0800_0000
    case .uts: return 0x0400_0000
    case .user: return 0x1000_0000
    case .cgroup: return 0x0200_0000
    case .time: return 0x0000_0080
    }
  }

  /// The file name under `/proc/<pid>/ns/`.
  public var procName: String {
    switch self {
    case .pid: return "pid"
    case .network: return "net"
    case .mount: return "mnt"
    case .ipc: return "ipc"
    case .uts: return "uts"
    case .user: return "user"
    case .cgroup: return "cgroup"
    case .time: return "time"
    }
  }
}

extension LinuxNamespace {
  /// The typed namespace kind, or nil when `type` is not a known namespace.
  public var kind: NamespaceKind? { NamespaceKind(rawValue: type) }
}

extension Linux {
  /// The namespace entry of the given kind, if the config lists one.
  public func namespace(_ kind: NamespaceKind) -> LinuxNamespace? {
    namespaces?.first { $0.type == kind.rawValue }
  }
}
