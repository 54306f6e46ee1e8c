import CellaCgroups

/// What the container's cgroup mount needs to know about the host's hierarchies, taken from the
/// detection the runtime already made (init must not parse mountinfo again on the start path).
package struct CgroupMounts: Sendable {
  package struct Hierarchy: Sendable {
    /// Directory name under /sys/fs/cgroup (cpu, memory, name=systemd's "systemd", ...).
    package var name: String
    /// Super options that select the hierarchy ("cpu", "cpu,cpuacct", "name=systemd").
    package var options: String
    package var hostPath: String
  }

  package var v1: [Hierarchy] = []
  /// Name of the cgroup2 mount next to v1 ones ("unified" on hybrid hosts).
  package var unifiedMount: String?
  /// /sys/fs/cgroup itself is cgroup2.
  package var isUnified = false

  init() {}

  package init(_ h: CgroupHierarchies) {
    isUnified = h.layout == .unified
    let base = "/sys/fs/cgroup/"
    for mountPoint in Set(h.v1.values).sorted() where mountPoint.hasPrefix(base) {
      let options = h.v1.filter { $0.value == mountPoint }.keys.sorted().joined(separator: ",")
      v1.append(Hierarchy(name: String(mountPoint.dropFirst(base.count)), options: options, hostPath: mountPoint))
    }
    if h.layout == .hybrid, let unified = h.unified, unified.hasPrefix(base) {
      unifiedMount = String(unified.dropFirst(base.count))
    }
  }
}
