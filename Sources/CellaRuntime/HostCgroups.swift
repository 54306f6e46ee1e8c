import CellaCgroups

/// The host's cgroup driver, detected once per process: every verb asks for it several times, and
/// detection parses /proc/self/mountinfo.
let hostCgroups: any CgroupDriver = Cgroups.driver()
