import CellaSys

/// The host's cgroup hierarchies as /proc/self/mountinfo shows them (for the container's cgroup mount).
struct CgroupMounts {
  struct Hierarchy {
    /// Directory name under /sys/fs/cgroup (cpu, memory, name=systemd's "systemd", ...).
    var name: String
    /// Super options that select the hierarchy ("cpu", "name=systemd").
    var options: String
    var hostPath: String
  }

  var v1: [Hierarchy] = []
  /// Name of the cgroup2 mount next to v1 ones ("unified" on hybrid hosts).
  var unifiedMount: String?
  /// /sys/fs/cgroup itself is cgroup2.
  var isUnified = false

  static func host() -> CgroupMounts {
    var out = CgroupMounts()
    guard let text = try? FileIO.readString("/proc/self/mountinfo") else { return out }
    for line in text.split(separator: "\n") {
      let halves = line.split(separator: " - ", maxSplits: 1)
      guard halves.count == 2 else { continue }
      let left = halves[0].split(separator: " ")
      let right = halves[1].split(separator: " ")
      guard left.count >= 5, right.count >= 3 else { continue }
      let mountPoint = String(left[4])
      let fstype = right[0]
      if fstype == "cgroup2" {
        if mountPoint == "/sys/fs/cgroup" { out.isUnified = true }
        if mountPoint.hasPrefix("/sys/fs/cgroup/") { out.unifiedMount = String(mountPoint.dropFirst(15)) }
      } else if fstype == "cgroup", mountPoint.hasPrefix("/sys/fs/cgroup/") {
        let known = [
          "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio", "perf_event",
          "net_prio", "hugetlb", "pids", "rdma", "misc",
        ]
        let opts = right[2].split(separator: ",").filter { known.contains(String($0)) || $0.hasPrefix("name=") }
        out.v1.append(
          Hierarchy(name: String(mountPoint.dropFirst(15)), options: opts.joined(separator: ","), hostPath: mountPoint))
      }
    }
    return out
  }
}
