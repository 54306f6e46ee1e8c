import CellaOCI
import CellaSys
import Glibc

/// The driver for a cgroup2 hierarchy: the whole host on unified hosts, the unified mount on hybrid ones.
public struct V2Driver: CgroupDriver {
  /// The cgroup2 mount point (or a temporary tree in tests).
  public let root: String
  /// Controllers this driver enables in parents' cgroup.subtree_control (nil: all the parent offers).
  let controllers: Set<String>?
  let hierarchies: CgroupHierarchies

  /// A driver for the cgroup2 tree mounted at `root`.
  public init(root: String = "/sys/fs/cgroup") {
    let list = CgroupFiles.read("\(root)/cgroup.controllers") ?? ""
    let available = Set(list.split(separator: " ").map(String.init))
    self.init(
      root: root, controllers: nil,
      hierarchies: CgroupHierarchies(layout: .unified, unified: root, unifiedControllers: available))
  }

  init(root: String, controllers: Set<String>?, hierarchies: CgroupHierarchies) {
    self.root = root
    self.controllers = controllers
    self.hierarchies = hierarchies
  }

  /// The directory of `path`.
  func dir(_ path: String) -> String { root + normalized(path) }

  public func directories(_ path: String) -> [String] { [dir(path)] }

  public func create(_ path: String, events: (CgroupCreateEvent) throws(CgroupError) -> Void) throws(CgroupError) {
    try CgroupFiles.makeDirectories(normalized(path), under: root, field: "cgroup create", events: events)
    // Controllers must be switched on in every ancestor's subtree_control, top down.
    var current = root
    for component in normalized(path).split(separator: "/") {
      enableControllers(in: current)
      current += "/\(component)"
    }
  }

  /// Enables what the parent offers; one at a time on failure so one busy controller does not block the rest.
  private func enableControllers(in dir: String) {
    guard let offered = CgroupFiles.read("\(dir)/cgroup.controllers") else { return }
    let enabled = Set((CgroupFiles.read("\(dir)/cgroup.subtree_control") ?? "").split(separator: " ").map(String.init))
    var wanted = Set(offered.split(separator: " ").map(String.init)).subtracting(enabled)
    if let controllers { wanted.formIntersection(controllers) }
    if wanted.isEmpty { return }
    // Keep what a plain test file already lists; the kernel treats "+x" for enabled x as a no-op.
    let all = enabled.union(wanted).sorted().map { "+\($0)" }.joined(separator: " ")
    do {
      try CgroupFiles.write("cgroup create", dir, "cgroup.subtree_control", all)
    } catch {
      for c in wanted.sorted() { try? CgroupFiles.write("cgroup create", dir, "cgroup.subtree_control", "+\(c)") }
    }
  }

  public func join(_ path: String, pid: Int32) throws(CgroupError) {
    try CgroupFiles.write(
      "cgroup join", dir(path), "cgroup.procs", "\(pid)",
      busyHint: "the cgroup has children with controllers enabled; cgroup v2 puts processes only in leaves")
  }

  public func validate(_ resources: LinuxResources) throws(CgroupError) {
    try ResourceValidator(isV2: true, hierarchies: hierarchies, cpusetRoot: root).validate(resources)
  }

  public func apply(_ path: String, _ r: LinuxResources) throws(CgroupError) {
    try validate(r)
    let d = dir(path)
    if let m = r.memory { try applyMemory(d, m) }
    if let c = r.cpu { try applyCPU(d, c) }
    if let pids = r.pids, let limit = pids.limit {
      try CgroupFiles.write("linux.resources.pids.limit", d, "pids.max", limit > 0 ? "\(limit)" : "max")
    }
    if let b = r.blockIO { try applyIO(d, b) }
    if let limits = r.hugepageLimits, !limits.isEmpty { try applyHugetlb(path, limits) }
    if let rdma = r.rdma, !rdma.isEmpty { try writeRdma(d, rdma) }
    if let u = r.unified, !u.isEmpty { try applyUnified(path, u) }
    if let devices = r.devices { try DeviceProgram.install(devices, cgroup: d) }
  }

  private func applyMemory(_ d: String, _ m: LinuxMemory) throws(CgroupError) {
    let p = "linux.resources.memory"
    if m.checkBeforeUpdate == true, let limit = m.limit, limit > 0,
      let usage = CgroupFiles.readUInt("\(d)/memory.current"), UInt64(limit) < usage
    {
      throw CgroupError(
        "\(p).limit: \(limit) is below the current usage \(usage) in \(d)/memory.current (checkBeforeUpdate)")
    }
    if let limit = m.limit, limit != 0 {
      try CgroupFiles.write(
        "\(p).limit", d, "memory.max", limit == -1 ? "max" : "\(limit)",
        busyHint: "the limit is below current usage")
    }
    // OCI swap is memory+swap; v2 limits swap alone.
    if let swap = m.swap, swap != 0, let limit = m.limit, limit != 0 {
      let value: String
      if swap == -1 || limit == -1 {
        value = "max"
      } else {
        value = "\(max(swap - limit, 0))"
      }
      try CgroupFiles.write("\(p).swap", d, "memory.swap.max", value)
    }
    if let r = m.reservation, r != 0 {
      try CgroupFiles.write("\(p).reservation", d, "memory.low", r == -1 ? "max" : "\(r)")
    }
    // swappiness, kernel, kernelTCP and useHierarchy have no v2 file; runc and crun ignore them too.
  }

  private func applyCPU(_ d: String, _ c: LinuxCPU) throws(CgroupError) {
    let p = "linux.resources.cpu"
    if let s = c.shares, s != 0 {
      try CgroupFiles.write("\(p).shares", d, "cpu.weight", "\(Cgroups.sharesToWeight(s))")
    }
    let quota = c.quota.flatMap { $0 == 0 ? nil : $0 }
    let period = c.period.flatMap { $0 == 0 ? nil : $0 }
    if quota != nil || period != nil {
      // cpu.max holds both; keep the half the spec leaves out.
      let current = (CgroupFiles.read("\(d)/cpu.max") ?? "max 100000").split(separator: " ")
      let q = quota.map { $0 < 0 ? "max" : "\($0)" } ?? current.first.map(String.init) ?? "max"
      let per = period.map { "\($0)" } ?? (current.count > 1 ? String(current[1]) : "100000")
      try CgroupFiles.write(quota != nil ? "\(p).quota" : "\(p).period", d, "cpu.max", "\(q) \(per)")
    }
    if let b = c.burst { try CgroupFiles.write("\(p).burst", d, "cpu.max.burst", "\(b)") }
    if let idle = c.idle { try CgroupFiles.write("\(p).idle", d, "cpu.idle", "\(idle)") }
    if let cpus = c.cpus, !cpus.isEmpty { try CgroupFiles.write("\(p).cpus", d, "cpuset.cpus", cpus) }
    if let mems = c.mems, !mems.isEmpty { try CgroupFiles.write("\(p).mems", d, "cpuset.mems", mems) }
  }

  private func applyIO(_ d: String, _ b: LinuxBlockIO) throws(CgroupError) {
    let p = "linux.resources.blockIO"
    // BFQ's io.bfq.weight takes the v1 range unchanged; io.weight needs the converted one.
    let bfq = FileIO.exists("\(d)/io.bfq.weight")
    if let w = b.weight, w != 0 {
      if bfq {
        try CgroupFiles.write("\(p).weight", d, "io.bfq.weight", "\(w)")
      } else {
        try CgroupFiles.write("\(p).weight", d, "io.weight", "default \(Cgroups.blkioWeightToIOWeight(w))")
      }
    }
    for (i, dev) in (b.weightDevice ?? []).enumerated() {
      guard let w = dev.weight else { continue }
      let field = "\(p).weightDevice[\(i)].weight"
      if bfq {
        try CgroupFiles.write(field, d, "io.bfq.weight", "\(dev.major):\(dev.minor) \(w)")
      } else {
        try CgroupFiles.write(field, d, "io.weight", "\(dev.major):\(dev.minor) \(Cgroups.blkioWeightToIOWeight(w))")
      }
    }
    let throttles: [(String, [LinuxThrottleDevice]?, String)] = [
      ("throttleReadBpsDevice", b.throttleReadBpsDevice, "rbps"),
      ("throttleWriteBpsDevice", b.throttleWriteBpsDevice, "wbps"),
      ("throttleReadIOPSDevice", b.throttleReadIOPSDevice, "riops"),
      ("throttleWriteIOPSDevice", b.throttleWriteIOPSDevice, "wiops"),
    ]
    for (name, list, key) in throttles {
      for (i, dev) in (list ?? []).enumerated() {
        // v1 uses 0 to lift a limit; v2 spells it "max".
        let rate = dev.rate == 0 ? "max" : "\(dev.rate)"
        try CgroupFiles.write("\(p).\(name)[\(i)]", d, "io.max", "\(dev.major):\(dev.minor) \(key)=\(rate)")
      }
    }
  }

  func applyHugetlb(_ path: String, _ limits: [LinuxHugepageLimit]) throws(CgroupError) {
    let d = dir(path)
    for (i, l) in limits.enumerated() {
      try CgroupFiles.write("linux.resources.hugepageLimits[\(i)]", d, "hugetlb.\(l.pageSize).max", "\(l.limit)")
    }
  }

  /// Writes `linux.resources.unified`; a key must name a file the kernel created in the cgroup.
  func applyUnified(_ path: String, _ unified: [String: String]) throws(CgroupError) {
    let d = dir(path)
    for key in unified.keys.sorted() {
      let field = "linux.resources.unified[\"\(key)\"]"
      if key.isEmpty || key.contains("/") || key.hasPrefix(".") {
        throw CgroupError("\(field): not a cgroup file name")
      }
      guard FileIO.exists("\(d)/\(key)") else {
        throw CgroupError("\(field): \(d)/\(key) does not exist (unknown key, or its controller is not enabled)")
      }
      try CgroupFiles.write(field, d, key, unified[key]!)
    }
  }

  public func processes(_ path: String) -> [Int32] {
    Array(Set(CgroupFiles.processes(dir(path)))).sorted()
  }

  public func freeze(_ path: String) throws(CgroupError) {
    let d = dir(path)
    try CgroupFiles.write("cgroup freeze", d, "cgroup.freeze", "1")
    if !CgroupFiles.waitUntil(milliseconds: 2000, { isFrozen(path) }) {
      try? CgroupFiles.write("cgroup freeze", d, "cgroup.freeze", "0")
      throw CgroupError("cgroup freeze: \(d)/cgroup.events did not report frozen within 2s; thawed again")
    }
  }

  public func thaw(_ path: String) throws(CgroupError) {
    try CgroupFiles.write("cgroup thaw", dir(path), "cgroup.freeze", "0")
    _ = CgroupFiles.waitUntil(milliseconds: 1000) { !isFrozen(path) }
  }

  public func isFrozen(_ path: String) -> Bool {
    let d = dir(path)
    // cgroup.events says when the freeze completed; a test tree without it falls back to the request.
    if FileIO.exists("\(d)/cgroup.events") { return CgroupFiles.readKeyed("\(d)/cgroup.events")["frozen"] == 1 }
    return CgroupFiles.read("\(d)/cgroup.freeze") == "1"
  }

  public func destroy(_ path: String) throws(CgroupError) {
    try CgroupFiles.remove(dir(path))
  }

  public func stats(_ path: String) -> CgroupStats {
    let d = dir(path)
    var s = CgroupStats()
    let cpu = CgroupFiles.readKeyed("\(d)/cpu.stat")
    s.cpu.usage.total = (cpu["usage_usec"] ?? 0).scaled(by: 1000)
    s.cpu.usage.user = (cpu["user_usec"] ?? 0).scaled(by: 1000)
    s.cpu.usage.kernel = (cpu["system_usec"] ?? 0).scaled(by: 1000)
    s.cpu.throttling.periods = cpu["nr_periods"] ?? 0
    s.cpu.throttling.throttledPeriods = cpu["nr_throttled"] ?? 0
    s.cpu.throttling.throttledTime = (cpu["throttled_usec"] ?? 0).scaled(by: 1000)
    let events = CgroupFiles.readKeyed("\(d)/memory.events")
    s.memory.usage.usage = CgroupFiles.readUInt("\(d)/memory.current") ?? 0
    s.memory.usage.limit = limitValue("\(d)/memory.max")
    s.memory.usage.max = CgroupFiles.readUInt("\(d)/memory.peak") ?? 0
    s.memory.usage.failcnt = events["max"] ?? 0
    s.memory.swap.usage = CgroupFiles.readUInt("\(d)/memory.swap.current") ?? 0
    s.memory.swap.limit = limitValue("\(d)/memory.swap.max")
    s.memory.swap.max = CgroupFiles.readUInt("\(d)/memory.swap.peak") ?? 0
    s.memory.raw = CgroupFiles.readKeyed("\(d)/memory.stat")
    s.memory.cache = s.memory.raw["file"] ?? 0
    s.pids.current = CgroupFiles.readUInt("\(d)/pids.current") ?? 0
    s.pids.limit = CgroupFiles.readUInt("\(d)/pids.max") ?? 0
    for line in (CgroupFiles.read("\(d)/io.stat") ?? "").split(separator: "\n") {
      let f = line.split(separator: " ")
      let dev = f.first?.split(separator: ":") ?? []
      guard dev.count == 2, let major = UInt64(dev[0]), let minor = UInt64(dev[1]) else { continue }
      for kv in f.dropFirst() {
        let pair = kv.split(separator: "=")
        guard pair.count == 2, let v = UInt64(pair[1]) else { continue }
        switch pair[0] {
        case "rbytes": s.blkio.ioServiceBytesRecursive.append(.init(major: major, minor: minor, op: "Read", value: v))
        case "wbytes": s.blkio.ioServiceBytesRecursive.append(.init(major: major, minor: minor, op: "Write", value: v))
        case "rios": s.blkio.ioServicedRecursive.append(.init(major: major, minor: minor, op: "Read", value: v))
        case "wios": s.blkio.ioServicedRecursive.append(.init(major: major, minor: minor, op: "Write", value: v))
        default: continue
        }
      }
    }
    s.hugetlb = hugetlbStats(path)
    return s
  }

  func hugetlbStats(_ path: String) -> [String: CgroupStats.Hugetlb] {
    let d = dir(path)
    var out: [String: CgroupStats.Hugetlb] = [:]
    for size in HugePages.available() where FileIO.exists("\(d)/hugetlb.\(size).current") {
      var h = CgroupStats.Hugetlb()
      h.usage = CgroupFiles.readUInt("\(d)/hugetlb.\(size).current") ?? 0
      h.max = limitValue("\(d)/hugetlb.\(size).max")
      h.failcnt = CgroupFiles.readKeyed("\(d)/hugetlb.\(size).events")["max"] ?? 0
      out[size] = h
    }
    return out
  }

  /// A v2 limit file: "max" reads as UInt64.max.
  private func limitValue(_ path: String) -> UInt64 {
    guard let text = CgroupFiles.read(path) else { return 0 }
    return text == "max" ? UInt64.max : UInt64(text) ?? 0
  }

  public func oomKillCount(_ path: String) -> UInt64 {
    CgroupFiles.readKeyed("\(dir(path))/memory.events")["oom_kill"] ?? 0
  }

  public func oomEventFD(_ path: String) throws(CgroupError) -> FileDescriptor {
    let file = "\(dir(path))/memory.events"
    let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
    if fd < 0 { throw CgroupError.sys("cgroup oom events", SysError("inotify_init1")) }
    let watch = FileDescriptor(adopting: fd)
    if inotify_add_watch(watch.rawValue, file, UInt32(IN_MODIFY)) < 0 {
      throw CgroupError.sys("cgroup oom events", SysError("inotify_add_watch", path: file))
    }
    return watch
  }
}
