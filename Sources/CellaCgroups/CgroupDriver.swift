import CellaOCI
import CellaSys
import Glibc

/// What `CgroupDriver.create` reports about the directories it meets, so that the caller records
/// exactly what it made.
public enum CgroupCreateEvent: Sendable, Hashable {
  /// A missing ancestor directory is about to be made.
  case willMakeParent(String)
  /// An ancestor announced by `willMakeParent` was made by someone else first: it is not the caller's.
  case parentExisted(String)
  /// The cgroup's own directory in one hierarchy was there already.
  case leafExisted(String)
}

/// What the runtime does with a cgroup; one implementation per hierarchy kind.
public protocol CgroupDriver: Sendable {
  /// Creates the cgroup (every v1 hierarchy and/or the v2 dir, enabling needed controllers in subtree_control of parents on v2).
  /// `events` hears of each missing ancestor before it is made and of directories found existing, so
  /// that the caller can record what it made and remove only that.
  func create(_ path: String, events: (CgroupCreateEvent) throws(CgroupError) -> Void) throws(CgroupError)
  /// The directories that hold `path`, one per hierarchy the driver writes.
  func directories(_ path: String) -> [String]
  /// The child cgroups of `path`, in every hierarchy (full paths).
  func childCgroups(_ path: String) -> [String]
  /// Moves the calling single-threaded process in by writing "0" to each v1 hierarchy's `tasks`,
  /// which the kernel handles without the global threadgroup lock (whose first use costs an RCU grace
  /// period, ~7 ms here). The v2 part (hybrid) is joined only when `includeUnified`, since it needs
  /// cgroup.procs and so the lock. Drivers without such a path fall back to `join`.
  func joinSelf(_ path: String, includeUnified: Bool) throws(CgroupError)
  /// The files `joinSelf` writes "0" to, for a caller that must do the writes without touching Swift
  /// objects (a freshly cloned init, whose every touched page is charged to the container); empty
  /// when the driver has no such path.
  func selfJoinFiles(_ path: String, includeUnified: Bool) -> [String]
  /// Moves a process in (cgroup.procs on v1 in every hierarchy; v2 cgroup.procs).
  func join(_ path: String, pid: Int32) throws(CgroupError)
  /// Checks values before anything is written (unknown unified keys, cpu quota < 1000us, unknown device type, cpus outside the machine...).
  func validate(_ resources: LinuxResources) throws(CgroupError)
  /// Writes every limit; an error names the spec field and the file.
  func apply(_ path: String, _ resources: LinuxResources) throws(CgroupError)
  /// Pids in the cgroup (all hierarchies merged, recursive).
  func processes(_ path: String) -> [Int32]
  /// Stops every task in the cgroup and waits until the kernel reports it frozen.
  func freeze(_ path: String) throws(CgroupError)
  /// Lets the tasks run again.
  func thaw(_ path: String) throws(CgroupError)
  /// Whether the cgroup is frozen.
  func isFrozen(_ path: String) -> Bool
  /// Removes the cgroup everywhere (children first; retries EBUSY briefly). Missing is not an error.
  func destroy(_ path: String) throws(CgroupError)
  /// runc `events --stats` shape data: memory, cpu, pids, blkio, hugetlb.
  func stats(_ path: String) -> CgroupStats
  /// OOM kill count so far (memory.oom_control oom_kill on v1, memory.events oom_kill on v2).
  func oomKillCount(_ path: String) -> UInt64
  /// v1: an eventfd registered on memory.oom_control (cgroup.event_control); v2: an inotify fd on memory.events. Returns a pollable fd.
  func oomEventFD(_ path: String) throws(CgroupError) -> FileDescriptor
}

extension CgroupDriver {
  /// Creates the cgroup and whatever parents it lacks, without recording them.
  public func create(_ path: String) throws(CgroupError) { try create(path, events: { _ in }) }

  public func childCgroups(_ path: String) -> [String] {
    directories(path).flatMap { dir in CgroupFiles.childDirectories(dir).map { "\(dir)/\($0)" } }
  }

  public func joinSelf(_ path: String, includeUnified: Bool) throws(CgroupError) {
    try join(path, pid: getpid())
  }

  public func selfJoinFiles(_ path: String, includeUnified: Bool) -> [String] { [] }
}

/// Entry points: the host's driver, cgroupsPath resolution and unit conversions.
public enum Cgroups {
  /// The parent the runtime puts containers under when cgroupsPath is relative or empty.
  public static let defaultParent = "/cella"

  /// The driver for this host (v1 driver on v1 and hybrid — where it also writes v2-only controllers such as hugetlb into the unified mount — and the v2 driver on unified).
  public static func driver(hierarchies: CgroupHierarchies = .detect()) -> any CgroupDriver {
    switch hierarchies.layout {
    case .v1, .hybrid: return V1Driver(hierarchies: hierarchies)
    case .unified: return V2Driver(root: hierarchies.unified ?? "/sys/fs/cgroup")
    }
  }

  /// A directory `removeEmptyDirectories` left, with the errno of its last rmdir and whether a
  /// child cgroup or a process in it explains that (another container uses it).
  public struct LeftDirectory: Sendable {
    public var directory: String
    public var errno: Int32
    public var inUse: Bool
  }

  /// Removes each directory (given deepest first) that is an empty cgroup; returns those still there.
  /// A parent that another container uses (EBUSY, ENOTEMPTY) stays; one already gone counts as
  /// removed. An empty one that is busy for a moment (the kernel releases a removed child
  /// asynchronously) is tried again briefly.
  public static func removeEmptyDirectories(_ directories: [String]) -> [LeftDirectory] {
    directories.compactMap { dir in
      var delay: UInt32 = 1_000
      while true {
        if rmdir(dir) == 0 || errno == ENOENT { return nil }
        let e = errno
        let inUse = !CgroupFiles.childDirectories(dir).isEmpty || !CgroupFiles.processes(dir).isEmpty
        if e != EBUSY || inUse || delay > 64_000 { return LeftDirectory(directory: dir, errno: e, inUse: inUse) }
        usleep(delay)
        delay *= 2
      }
    }
  }

  /// Resolves `linux.cgroupsPath`: absolute kept, relative under "/cella", empty → "/cella/<id>";
  /// with `systemd`, runc's "slice:prefix:name" becomes "/<slice path>/<prefix>-<name>.scope".
  public static func resolvePath(_ cgroupsPath: String?, id: String, systemd: Bool) throws(CgroupError) -> String {
    let raw = cgroupsPath ?? ""
    if systemd {
      // runc's default for --systemd-cgroup is "system.slice:runc:<id>"; ours says cella.
      let spec = raw.isEmpty ? "system.slice:cella:\(id)" : raw
      return try systemdPath(spec)
    }
    if raw.isEmpty { return "\(defaultParent)/\(id)" }
    let components = raw.split(separator: "/")
    if components.contains("..") || components.contains(".") {
      throw CgroupError("linux.cgroupsPath: \"\(raw)\" must not contain \".\" or \"..\" components")
    }
    if components.isEmpty { throw CgroupError("linux.cgroupsPath: \"\(raw)\" names the root cgroup") }
    let joined = components.joined(separator: "/")
    return raw.hasPrefix("/") ? "/\(joined)" : "\(defaultParent)/\(joined)"
  }

  /// "slice:prefix:name" → cgroupfs path of the systemd scope.
  private static func systemdPath(_ spec: String) throws(CgroupError) -> String {
    let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 3, !parts[2].isEmpty else {
      throw CgroupError(
        "linux.cgroupsPath: \"\(spec)\" is not of the form slice:prefix:name required by --systemd-cgroup")
    }
    let slice = parts[0].isEmpty ? "system.slice" : parts[0]
    for part in parts where part.contains("/") {
      throw CgroupError("linux.cgroupsPath: \"\(part)\" in \"\(spec)\" must not contain \"/\"")
    }
    guard slice.hasSuffix(".slice") else {
      throw CgroupError("linux.cgroupsPath: \"\(slice)\" in \"\(spec)\" is not a systemd slice (name.slice)")
    }
    let unit: String
    if parts[2].hasSuffix(".slice") {
      unit = parts[2]
    } else {
      unit = parts[1].isEmpty ? "\(parts[2]).scope" : "\(parts[1])-\(parts[2]).scope"
    }
    return try expandSlice(slice, spec: spec) + "/" + unit
  }

  /// systemd nests "a-b-c.slice" as /a.slice/a-b.slice/a-b-c.slice; "-.slice" is the root.
  private static func expandSlice(_ slice: String, spec: String) throws(CgroupError) -> String {
    if slice == "-.slice" { return "" }
    let base = slice.dropLast(".slice".count)
    let words = base.split(separator: "-", omittingEmptySubsequences: false)
    if words.contains(where: \.isEmpty) {
      throw CgroupError("linux.cgroupsPath: \"\(slice)\" in \"\(spec)\" is not a valid slice name")
    }
    var path = ""
    var prefix = ""
    for word in words {
      prefix = prefix.isEmpty ? String(word) : "\(prefix)-\(word)"
      path += "/\(prefix).slice"
    }
    return path
  }

  /// cpu.shares (v1, 2...262144) → cpu.weight (v2, 1...10000); 0 stays 0 (unset).
  public static func sharesToWeight(_ shares: UInt64) -> UInt64 {
    if shares == 0 { return 0 }
    let s = min(max(shares, 2), 262_144)
    return 1 + ((s - 2) * 9999) / 262_142
  }

  /// blkio.weight (v1, 10...1000) → io.weight (v2, 1...10000); 0 stays 0 (unset).
  public static func blkioWeightToIOWeight(_ w: UInt16) -> UInt64 {
    if w == 0 { return 0 }
    let v = UInt64(min(max(w, 10), 1000))
    return 1 + (v - 10) * 9999 / 990
  }
}
