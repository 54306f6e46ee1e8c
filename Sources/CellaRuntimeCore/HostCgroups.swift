import CellaCgroups

/// The host's cgroup hierarchies, detected once per process: every verb needs them several times, and
/// detection parses /proc/self/mountinfo.
package let hostHierarchies = CgroupHierarchies.detect()

/// The driver for `hostHierarchies`.
package let hostCgroups: any CgroupDriver = Cgroups.driver(hierarchies: hostHierarchies)
