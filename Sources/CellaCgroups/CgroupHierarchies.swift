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
    let bytes = mountinfo.map { Array($0.utf8) } ?? (try? FileIO.read("/proc/self/mountinfo")) ?? []
    var v1: [String: String] = [:]
    var v2Mounts: [String] = []
    // A byte scan: this runs on every runtime start, and only the few cgroup lines need Strings.
    for (mountPointBytes, fstype, superOptions) in cgroupLines(bytes) {
      let mountPoint = root + unescape(String(decoding: mountPointBytes, as: UTF8.self))
      if fstype == .v2 {
        v2Mounts.append(mountPoint)
        continue
      }
      for option in String(decoding: superOptions, as: UTF8.self).split(separator: ",") where isController(option) {
        // The first mount of a hierarchy wins (bind mounts of it may follow).
        if v1[String(option)] == nil { v1[String(option)] = mountPoint }
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

  private enum CgroupFS { case v1, v2 }

  /// (mount point, cgroup or cgroup2, super options) of every cgroup line of a mountinfo text.
  private static func cgroupLines(_ bytes: [UInt8]) -> [(ArraySlice<UInt8>, CgroupFS, ArraySlice<UInt8>)] {
    var out: [(ArraySlice<UInt8>, CgroupFS, ArraySlice<UInt8>)] = []
    let space = UInt8(ascii: " ")
    var start = 0
    while start < bytes.count {
      var end = start
      while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
      let line = bytes[start..<end]
      start = end + 1
      // Fields: id parent major:minor root mountpoint options [optional...] - fstype source super
      guard
        let dash = line.indices.first(where: { i in
          bytes[i] == UInt8(ascii: "-") && i > line.startIndex && bytes[i - 1] == space && i + 1 < line.endIndex
            && bytes[i + 1] == space
        })
      else { continue }
      let right = line[(dash + 2)...].split(separator: space, omittingEmptySubsequences: false)
      guard right.count >= 3 else { continue }
      let fs: CgroupFS
      if right[0].elementsEqual("cgroup2".utf8) {
        fs = .v2
      } else if right[0].elementsEqual("cgroup".utf8) {
        fs = .v1
      } else {
        continue
      }
      let left = line[..<dash].split(separator: space)
      guard left.count >= 5 else { continue }
      out.append((left[4], fs, right[2]))
    }
    return out
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
