import CellaSys

/// How the host mounts cgroups.
public enum CgroupLayout: Sendable, Equatable {
  /// Only v1 hierarchies.
  case v1
  /// v1 controllers plus a cgroup2 mount (usually /sys/fs/cgroup/unified).
  case hybrid
  /// A single cgroup2 hierarchy.
  case unified
}

/// The cgroup mounts of the host, as /proc/self/mountinfo shows them.
public struct CgroupHierarchies: Sendable, Equatable {
  /// v1, hybrid or unified.
  public var layout: CgroupLayout
  /// v1 controller (or "name=systemd") → mount point; co-mounted controllers share one.
  public var v1: [String: String]
  /// The cgroup2 mount point, if any.
  public var unified: String?
  /// Controllers listed in the v2 root's cgroup.controllers.
  public var unifiedControllers: Set<String>

  /// A layout given directly (tests point the mount points at temporary directories).
  public init(
    layout: CgroupLayout, v1: [String: String] = [:], unified: String? = nil, unifiedControllers: Set<String> = []
  ) {
    self.layout = layout
    self.v1 = v1
    self.unified = unified
    self.unifiedControllers = unifiedControllers
  }

  /// Detects the hierarchies from `mountinfo` (default: /proc/self/mountinfo); `root` is prefixed
  /// to every mount point, so a test can read cgroup.controllers from a temporary tree.
  public static func detect(mountinfo: String? = nil, root: String = "") -> CgroupHierarchies {
    let text = mountinfo ?? (try? FileIO.readString("/proc/self/mountinfo")) ?? ""
    var v1: [String: String] = [:]
    var v2Mounts: [String] = []
    for line in text.split(separator: "\n") {
      // Fields after " - " are: fstype, source, super options.
      let halves = line.split(separator: " - ", maxSplits: 1, omittingEmptySubsequences: false)
      guard halves.count == 2 else { continue }
      let left = halves[0].split(separator: " ")
      let right = halves[1].split(separator: " ")
      guard left.count >= 5, right.count >= 1 else { continue }
      let mountPoint = root + unescape(String(left[4]))
      switch right[0] {
      case "cgroup2":
        v2Mounts.append(mountPoint)
      case "cgroup":
        let options = right.count >= 3 ? right[2].split(separator: ",") : []
        for option in options where isController(option) {
          // The first mount of a hierarchy wins (bind mounts of it may follow).
          if v1[String(option)] == nil { v1[String(option)] = mountPoint }
        }
      default:
        continue
      }
    }
    // Prefer the conventional places when a cgroup2 tree is mounted more than once.
    let unified =
      v2Mounts.first { $0 == root + "/sys/fs/cgroup" } ?? v2Mounts.first { $0 == root + "/sys/fs/cgroup/unified" }
      ?? v2Mounts.first
    var controllers: Set<String> = []
    if let unified, let list = CgroupFiles.read("\(unified)/cgroup.controllers") {
      controllers = Set(list.split(separator: " ").map(String.init))
    }
    let hasV1Controllers = v1.keys.contains { !$0.hasPrefix("name=") }
    let layout: CgroupLayout
    if hasV1Controllers {
      layout = unified == nil ? .v1 : .hybrid
    } else {
      layout = unified == nil ? .v1 : .unified
    }
    return CgroupHierarchies(layout: layout, v1: v1, unified: unified, unifiedControllers: controllers)
  }

  /// Whether a v1 super option names a controller or a named hierarchy.
  private static func isController<S: StringProtocol>(_ option: S) -> Bool {
    if option.hasPrefix("name=") { return true }
    return knownV1Controllers.contains(String(option))
  }

  static let knownV1Controllers: Set<String> = [
    "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio", "perf_event", "net_prio",
    "hugetlb", "pids", "rdma", "misc",
  ]

  /// Undoes mountinfo's octal escapes (\040 for a space, ...).
  private static func unescape(_ s: String) -> String {
    guard s.contains("\\") else { return s }
    var out: [UInt8] = []
    let bytes = Array(s.utf8)
    var i = 0
    while i < bytes.count {
      if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
        let v = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
      {
        out.append(v)
        i += 4
      } else {
        out.append(bytes[i])
        i += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Mount points of the v1 hierarchies, each once, sorted.
  var v1MountPoints: [String] { Array(Set(v1.values)).sorted() }
}
