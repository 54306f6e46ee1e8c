import CellaCgroups

/// The host's cgroup hierarchies, detected once per process: every verb needs them several times, and
/// detection parses /proc/self/mountinfo.
let hostHierarchies = CgroupHierarchies.detect()

/// The driver for `hostHierarchies`.
let hostCgroups: any CgroupDriver = Cgroups.driver(hierarchies: hostHierarchies)
