import CShims
import CellaOCI
import CellaSys
import Glibc

/// The driver for v1 and hybrid hosts: one directory per v1 hierarchy, plus the cgroup2 mount
/// on hybrid hosts for controllers that exist only there (hugetlb on some kernels) and for
/// `linux.resources.unified`.
public struct V1Driver: CgroupDriver {
  /// The mounts this driver writes to.
  public let hierarchies: CgroupHierarchies
  /// The unified half of a hybrid host, restricted to controllers no v1 hierarchy has.
  let unified: V2Driver?

  /// A driver over `hierarchies` (tests pass temporary directories as mount points).
  public init(hierarchies: CgroupHierarchies) {
    self.hierarchies = hierarchies
    if hierarchies.layout == .hybrid, let root = hierarchies.unified {
      let v2Only = hierarchies.unifiedControllers.subtracting(hierarchies.v1.keys)
      unified = V2Driver(root: root, controllers: v2Only, hierarchies: hierarchies)
    } else {
      unified = nil
    }
  }

  /// The directory of `path` in the hierarchy that has `controller`.
  func dir(_ controller: String, _ path: String) -> String? {
    hierarchies.v1[controller].map { $0 + normalized(path) }
  }

  var validator: ResourceValidator {
    ResourceValidator(isV2: false, hierarchies: hierarchies, cpusetRoot: hierarchies.v1["cpuset"])
  }

  public func create(_ path: String, events: (CgroupCreateEvent) throws(CgroupError) -> Void) throws(CgroupError) {
    let p = normalized(path)
    for mount in hierarchies.v1MountPoints {
      try CgroupFiles.makeDirectories(p, under: mount, field: "cgroup create", events: events)
    }
    if let cpuset = hierarchies.v1["cpuset"] { try copyCpusetDown(mount: cpuset, path: p) }
    try unified?.create(p, events: events)
  }

  public func directories(_ path: String) -> [String] {
    let p = normalized(path)
    return hierarchies.v1MountPoints.map { $0 + p } + (unified?.directories(p) ?? [])
  }

  /// A new v1 cpuset starts empty and then cannot hold tasks, so each level inherits its parent's.
  private func copyCpusetDown(mount: String, path: String) throws(CgroupError) {
    var parent = mount
    for component in path.split(separator: "/") {
      let child = "\(parent)/\(component)"
      for file in ["cpuset.cpus", "cpuset.mems"] {
        guard let current = CgroupFiles.read("\(child)/\(file)"), current.isEmpty,
          let inherited = CgroupFiles.read("\(parent)/\(file)"), !inherited.isEmpty
        else { continue }
        try CgroupFiles.write("cgroup create", child, file, inherited)
      }
      parent = child
    }
  }

  public func joinSelf(_ path: String, includeUnified: Bool) throws(CgroupError) {
    let p = normalized(path)
    for mount in hierarchies.v1MountPoints {
      try CgroupFiles.write("cgroup join", mount + p, "tasks", "0")
    }
    if includeUnified { try unified?.join(p, pid: getpid()) }
  }

  public func selfJoinFiles(_ path: String, includeUnified: Bool) -> [String] {
    let p = normalized(path)
    var files = hierarchies.v1MountPoints.map { $0 + p + "/tasks" }
    if includeUnified, unified != nil, let root = hierarchies.unified { files.append(root + p + "/cgroup.procs") }
    return files
  }

  public func join(_ path: String, pid: Int32) throws(CgroupError) {
    let p = normalized(path)
    for mount in hierarchies.v1MountPoints {
      try CgroupFiles.write("cgroup join", mount + p, "cgroup.procs", "\(pid)")
    }
    try unified?.join(p, pid: pid)
  }

  public func validate(_ resources: LinuxResources) throws(CgroupError) {
    try validator.validate(resources)
  }

  public func apply(_ path: String, _ r: LinuxResources) throws(CgroupError) {
    try validate(r)
    let p = normalized(path)
    if let devices = r.devices, let d = dir("devices", p) { try applyDevices(d, devices) }
    if let m = r.memory, let d = dir("memory", p) { try applyMemory(d, m) }
    if let c = r.cpu { try applyCPU(p, c) }
    if let pids = r.pids, let limit = pids.limit, let d = dir("pids", p) {
      try CgroupFiles.write("linux.resources.pids.limit", d, "pids.max", limit > 0 ? "\(limit)" : "max")
    }
    if let b = r.blockIO, let d = dir("blkio", p) { try applyBlockIO(d, b) }
    if let limits = r.hugepageLimits, !limits.isEmpty {
      if let d = dir("hugetlb", p) {
        for (i, l) in limits.enumerated() {
          try CgroupFiles.write(
            "linux.resources.hugepageLimits[\(i)]", d, "hugetlb.\(l.pageSize).limit_in_bytes", "\(l.limit)")
        }
      } else if let unified {
        try unified.applyHugetlb(p, limits)
      }
    }
    if let n = r.network { try applyNetwork(p, n) }
    if let rdma = r.rdma, !rdma.isEmpty {
      if let d = dir("rdma", p) {
        try writeRdma(d, rdma)
      } else if let unified {
        try writeRdma(unified.dir(p), rdma)
      }
    }
    if let u = r.unified, !u.isEmpty, let unified { try unified.applyUnified(p, u) }
  }

  /// Deny everything, then replay the rules in order (the v1 list is last-match-wins).
  private func applyDevices(_ d: String, _ rules: [LinuxDeviceCgroup]) throws(CgroupError) {
    try CgroupFiles.write("linux.resources.devices", d, "devices.deny", "a")
    for (i, rule) in rules.enumerated() {
      let entry = DeviceRule(rule).v1Entry
      // "deny a" was written already; a leading deny-all rule would only repeat it.
      if !rule.allow && entry == "a *:* rwm" { continue }
      try CgroupFiles.write(
        "linux.resources.devices[\(i)]", d, rule.allow ? "devices.allow" : "devices.deny", entry)
    }
  }

  private func applyMemory(_ d: String, _ m: LinuxMemory) throws(CgroupError) {
    let p = "linux.resources.memory"
    let busy = "the limit is below current usage"
    if m.checkBeforeUpdate == true, let limit = m.limit, limit > 0,
      let usage = CgroupFiles.readUInt("\(d)/memory.usage_in_bytes"), UInt64(limit) < usage
    {
      throw CgroupError(
        "\(p).limit: \(limit) is below the current usage \(usage) in \(d)/memory.usage_in_bytes (checkBeforeUpdate)")
    }
    let limit = m.limit.flatMap { $0 == 0 ? nil : $0 }
    let swap = m.swap.flatMap { $0 == 0 ? nil : $0 }
    // memsw must stay >= limit at every step: raise memsw first when the limit grows past it.
    var swapFirst = false
    if let swap, let limit {
      let current = CgroupFiles.readUInt("\(d)/memory.memsw.limit_in_bytes") ?? UInt64.max
      swapFirst = swap == -1 || limit == -1 || UInt64(limit) > current
    }
    if swapFirst, let swap {
      try CgroupFiles.write("\(p).swap", d, "memory.memsw.limit_in_bytes", "\(swap)", busyHint: busy)
    }
    if let limit { try CgroupFiles.write("\(p).limit", d, "memory.limit_in_bytes", "\(limit)", busyHint: busy) }
    if !swapFirst, let swap {
      try CgroupFiles.write("\(p).swap", d, "memory.memsw.limit_in_bytes", "\(swap)", busyHint: busy)
    }
    if let r = m.reservation, r != 0 {
      try CgroupFiles.write("\(p).reservation", d, "memory.soft_limit_in_bytes", "\(r)")
    }
    // memory.kernel is deprecated (kernel 5.4+ ignores or lacks kmem.limit_in_bytes): skipped on purpose.
    if let tcp = m.kernelTCP, tcp != 0, FileIO.exists("\(d)/memory.kmem.tcp.limit_in_bytes") {
      try CgroupFiles.write("\(p).kernelTCP", d, "memory.kmem.tcp.limit_in_bytes", "\(tcp)")
    }
    if let s = m.swappiness { try CgroupFiles.write("\(p).swappiness", d, "memory.swappiness", "\(s)") }
    if let off = m.disableOOMKiller {
      try CgroupFiles.write("\(p).disableOOMKiller", d, "memory.oom_control", off ? "1" : "0")
    }
  }

  private func applyCPU(_ path: String, _ c: LinuxCPU) throws(CgroupError) {
    let p = "linux.resources.cpu"
    if let d = dir("cpu", path) {
      if let s = c.shares, s != 0 { try CgroupFiles.write("\(p).shares", d, "cpu.shares", "\(s)") }
      try writePeriodAndQuota(d, period: c.period.flatMap { $0 == 0 ? nil : $0 }, quota: c.quota)
      if let b = c.burst { try CgroupFiles.write("\(p).burst", d, "cpu.cfs_burst_us", "\(b)") }
      if let rp = c.realtimePeriod, rp != 0 {
        try CgroupFiles.write("\(p).realtimePeriod", d, "cpu.rt_period_us", "\(rp)")
      }
      if let rr = c.realtimeRuntime, rr != 0 {
        try CgroupFiles.write(
          "\(p).realtimeRuntime", d, "cpu.rt_runtime_us", "\(rr)",
          busyHint: "the parent cgroup's cpu.rt_runtime_us leaves no room for it")
      }
      if let idle = c.idle { try CgroupFiles.write("\(p).idle", d, "cpu.idle", "\(idle)") }
    }
    if let d = dir("cpuset", path) {
      if let cpus = c.cpus, !cpus.isEmpty { try CgroupFiles.write("\(p).cpus", d, "cpuset.cpus", cpus) }
      if let mems = c.mems, !mems.isEmpty { try CgroupFiles.write("\(p).mems", d, "cpuset.mems", mems) }
    }
  }

  /// The kernel checks quota against the period in force, so if the period fails first, retry after the quota.
  private func writePeriodAndQuota(_ d: String, period: UInt64?, quota: Int64?) throws(CgroupError) {
    let p = "linux.resources.cpu"
    let q = quota.flatMap { $0 == 0 ? nil : $0 }
    guard let period else {
      if let q { try CgroupFiles.write("\(p).quota", d, "cpu.cfs_quota_us", "\(q)") }
      return
    }
    do {
      try CgroupFiles.write("\(p).period", d, "cpu.cfs_period_us", "\(period)")
    } catch {
      guard let q else { throw error }
      try CgroupFiles.write("\(p).quota", d, "cpu.cfs_quota_us", "\(q)")
      try CgroupFiles.write("\(p).period", d, "cpu.cfs_period_us", "\(period)")
      return
    }
    if let q { try CgroupFiles.write("\(p).quota", d, "cpu.cfs_quota_us", "\(q)") }
  }

  private func applyBlockIO(_ d: String, _ b: LinuxBlockIO) throws(CgroupError) {
    let p = "linux.resources.blockIO"
    // CFQ's blkio.weight is gone from modern kernels; BFQ offers blkio.bfq.weight with the same range.
    func weightFile(_ name: String) -> String {
      if !FileIO.exists("\(d)/blkio.\(name)") && FileIO.exists("\(d)/blkio.bfq.\(name)") { return "blkio.bfq.\(name)" }
      return "blkio.\(name)"
    }
    if let w = b.weight, w != 0 { try CgroupFiles.write("\(p).weight", d, weightFile("weight"), "\(w)") }
    if let w = b.leafWeight, w != 0 { try CgroupFiles.write("\(p).leafWeight", d, "blkio.leaf_weight", "\(w)") }
    for (i, dev) in (b.weightDevice ?? []).enumerated() {
      if let w = dev.weight {
        try CgroupFiles.write(
          "\(p).weightDevice[\(i)].weight", d, weightFile("weight_device"), "\(dev.major):\(dev.minor) \(w)")
      }
      if let w = dev.leafWeight {
        try CgroupFiles.write(
          "\(p).weightDevice[\(i)].leafWeight", d, "blkio.leaf_weight_device", "\(dev.major):\(dev.minor) \(w)")
      }
    }
    let throttles: [(String, [LinuxThrottleDevice]?, String)] = [
      ("throttleReadBpsDevice", b.throttleReadBpsDevice, "blkio.throttle.read_bps_device"),
      ("throttleWriteBpsDevice", b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device"),
      ("throttleReadIOPSDevice", b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device"),
      ("throttleWriteIOPSDevice", b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device"),
    ]
    for (name, list, file) in throttles {
      for (i, dev) in (list ?? []).enumerated() {
        try CgroupFiles.write("\(p).\(name)[\(i)]", d, file, "\(dev.major):\(dev.minor) \(dev.rate)")
      }
    }
  }

  private func applyNetwork(_ path: String, _ n: LinuxNetwork) throws(CgroupError) {
    let p = "linux.resources.network"
    if let id = n.classID, let d = dir("net_cls", path) {
      try CgroupFiles.write("\(p).classID", d, "net_cls.classid", "\(id)")
    }
    if let d = dir("net_prio", path) {
      for (i, prio) in (n.priorities ?? []).enumerated() {
        try CgroupFiles.write("\(p).priorities[\(i)]", d, "net_prio.ifpriomap", "\(prio.name) \(prio.priority)")
      }
    }
  }

  public func processes(_ path: String) -> [Int32] {
    let p = normalized(path)
    var all = Set<Int32>()
    for mount in hierarchies.v1MountPoints { all.formUnion(CgroupFiles.processes(mount + p)) }
    if let unified { all.formUnion(unified.processes(p)) }
    return all.sorted()
  }

  public func freeze(_ path: String) throws(CgroupError) {
    guard let d = dir("freezer", path) else {
      guard let unified else {
        throw CgroupError("cgroup freeze: no freezer hierarchy is mounted on this host", kind: .unsupported)
      }
      return try unified.freeze(path)
    }
    try CgroupFiles.write("cgroup freeze", d, "freezer.state", "FROZEN")
    // FREEZING can linger while tasks finish a syscall; writing again nudges the kernel.
    for _ in 0..<50 {
      if CgroupFiles.waitUntil(milliseconds: 20, { CgroupFiles.read("\(d)/freezer.state") == "FROZEN" }) { return }
      try CgroupFiles.write("cgroup freeze", d, "freezer.state", "FROZEN")
    }
    try? CgroupFiles.write("cgroup freeze", d, "freezer.state", "THAWED")
    throw CgroupError(
      "cgroup freeze: \(d)/freezer.state stayed FREEZING for a second; the cgroup was thawed again", kind: .system)
  }

  public func thaw(_ path: String) throws(CgroupError) {
    guard let d = dir("freezer", path) else {
      guard let unified else {
        throw CgroupError("cgroup thaw: no freezer hierarchy is mounted on this host", kind: .unsupported)
      }
      return try unified.thaw(path)
    }
    try CgroupFiles.write("cgroup thaw", d, "freezer.state", "THAWED")
    _ = CgroupFiles.waitUntil(milliseconds: 1000) { CgroupFiles.read("\(d)/freezer.state") == "THAWED" }
  }

  public func isFrozen(_ path: String) -> Bool {
    guard let d = dir("freezer", path) else { return unified?.isFrozen(path) ?? false }
    return CgroupFiles.read("\(d)/freezer.state") == "FROZEN"
  }

  public func destroy(_ path: String) throws(CgroupError) {
    let p = normalized(path)
    var first: CgroupError?
    // Try every hierarchy even after a failure so one busy controller does not leak the rest.
    for mount in hierarchies.v1MountPoints {
      do { try CgroupFiles.remove(mount + p) } catch { first = first ?? error }
    }
    do { try unified?.destroy(p) } catch { first = first ?? error }
    if let first { throw first }
  }

  public func stats(_ path: String) -> CgroupStats {
    let p = normalized(path)
    var s = CgroupStats()
    if let d = dir("cpuacct", p) {
      s.cpu.usage.total = CgroupFiles.readUInt("\(d)/cpuacct.usage") ?? 0
      s.cpu.usage.percpu = numbers("\(d)/cpuacct.usage_percpu")
      s.cpu.usage.percpu_user = numbers("\(d)/cpuacct.usage_percpu_user")
      s.cpu.usage.percpu_kernel = numbers("\(d)/cpuacct.usage_percpu_sys")
      if let user = CgroupFiles.readUInt("\(d)/cpuacct.usage_user"),
        let sys = CgroupFiles.readUInt("\(d)/cpuacct.usage_sys")
      {
        s.cpu.usage.user = user
        s.cpu.usage.kernel = sys
      } else {
        // cpuacct.stat counts USER_HZ ticks.
        let ticks = CgroupFiles.readKeyed("\(d)/cpuacct.stat")
        let nsPerTick = 1_000_000_000 / UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        s.cpu.usage.user = (ticks["user"] ?? 0).scaled(by: nsPerTick)
        s.cpu.usage.kernel = (ticks["system"] ?? 0).scaled(by: nsPerTick)
      }
    }
    if let d = dir("cpu", p) {
      let st = CgroupFiles.readKeyed("\(d)/cpu.stat")
      s.cpu.throttling.periods = st["nr_periods"] ?? 0
      s.cpu.throttling.throttledPeriods = st["nr_throttled"] ?? 0
      s.cpu.throttling.throttledTime = st["throttled_time"] ?? 0
    }
    if let d = dir("memory", p) {
      func entry(_ prefix: String) -> CgroupStats.MemoryEntry {
        var e = CgroupStats.MemoryEntry()
        e.usage = CgroupFiles.readUInt("\(d)/\(prefix)usage_in_bytes") ?? 0
        e.max = CgroupFiles.readUInt("\(d)/\(prefix)max_usage_in_bytes") ?? 0
        e.failcnt = CgroupFiles.readUInt("\(d)/\(prefix)failcnt") ?? 0
        e.limit = CgroupFiles.readUInt("\(d)/\(prefix)limit_in_bytes") ?? 0
        return e
      }
      s.memory.usage = entry("memory.")
      s.memory.swap = entry("memory.memsw.")
      s.memory.kernel = entry("memory.kmem.")
      s.memory.kernelTCP = entry("memory.kmem.tcp.")
      s.memory.raw = CgroupFiles.readKeyed("\(d)/memory.stat")
      s.memory.cache = s.memory.raw["cache"] ?? 0
    }
    if let d = dir("pids", p) {
      s.pids.current = CgroupFiles.readUInt("\(d)/pids.current") ?? 0
      s.pids.limit = CgroupFiles.readUInt("\(d)/pids.max") ?? 0
    }
    if let d = dir("blkio", p) {
      s.blkio.ioServiceBytesRecursive = blkioEntries("\(d)/blkio.throttle.io_service_bytes_recursive")
      s.blkio.ioServicedRecursive = blkioEntries("\(d)/blkio.throttle.io_serviced_recursive")
    }
    if let d = dir("hugetlb", p) {
      for size in HugePages.available() {
        var h = CgroupStats.Hugetlb()
        h.usage = CgroupFiles.readUInt("\(d)/hugetlb.\(size).usage_in_bytes") ?? 0
        h.max = CgroupFiles.readUInt("\(d)/hugetlb.\(size).max_usage_in_bytes") ?? 0
        h.failcnt = CgroupFiles.readUInt("\(d)/hugetlb.\(size).failcnt") ?? 0
        s.hugetlb[size] = h
      }
    } else if let unified {
      s.hugetlb = unified.hugetlbStats(p)
    }
    return s
  }

  public func oomKillCount(_ path: String) -> UInt64 {
    guard let d = dir("memory", path) else { return 0 }
    return CgroupFiles.readKeyed("\(d)/memory.oom_control")["oom_kill"] ?? 0
  }

  public func oomEventFD(_ path: String) throws(CgroupError) -> FileDescriptor {
    guard let d = dir("memory", path) else {
      throw CgroupError("cgroup oom events: no memory hierarchy is mounted", kind: .unsupported)
    }
    let efd = cella_eventfd(0)
    if efd < 0 { throw CgroupError.sys("cgroup oom events", SysError("eventfd")) }
    let event = FileDescriptor(adopting: efd)
    let control: FileDescriptor
    do { control = try FileDescriptor.open("\(d)/memory.oom_control") } catch {
      throw CgroupError.sys("cgroup oom events", error)
    }
    // The kernel keeps only the eventfd after registration, so the control fd goes at the end of the scope.
    try CgroupFiles.write(
      "cgroup oom events", d, "cgroup.event_control", "\(event.rawValue) \(control.rawValue)")
    return event
  }
}

/// Whitespace-separated numbers of a file.
func numbers(_ path: String) -> [UInt64] {
  (CgroupFiles.read(path) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) }
}

/// Lines "8:0 Read 4096" of a v1 blkio file.
func blkioEntries(_ path: String) -> [CgroupStats.BlkioEntry] {
  (CgroupFiles.read(path) ?? "").split(separator: "\n").compactMap { line in
    let f = line.split(separator: " ")
    guard f.count == 3, let v = UInt64(f[2]) else { return nil }
    let dev = f[0].split(separator: ":")
    guard dev.count == 2, let major = UInt64(dev[0]), let minor = UInt64(dev[1]) else { return nil }
    return CgroupStats.BlkioEntry(major: major, minor: minor, op: String(f[1]), value: v)
  }
}

/// "/a//b/" → "/a/b".
func normalized(_ path: String) -> String {
  "/" + path.split(separator: "/").joined(separator: "/")
}

/// Writes rdma.max, one line per device.
func writeRdma(_ d: String, _ rdma: [String: LinuxRdma]) throws(CgroupError) {
  for name in rdma.keys.sorted() {
    let limit = rdma[name]!
    var line = name
    if let h = limit.hcaHandles { line += " hca_handle=\(h)" }
    if let o = limit.hcaObjects { line += " hca_object=\(o)" }
    try CgroupFiles.write("linux.resources.rdma[\"\(name)\"]", d, "rdma.max", line)
  }
}
