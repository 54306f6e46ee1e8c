import CellaOCI
import CellaSys

/// Checks on `linux.resources` shared by both drivers; nothing is written.
struct ResourceValidator {
  /// Whether limits go to a cgroup2 hierarchy (the v2 driver).
  var isV2: Bool
  var hierarchies: CgroupHierarchies
  /// Root directory whose cpuset lists the CPUs and memory nodes this machine offers.
  var cpusetRoot: String?

  /// Controllers that exist for this driver.
  func has(_ controller: String) -> Bool {
    if isV2 { return hierarchies.unifiedControllers.contains(controller) }
    if hierarchies.v1[controller] != nil { return true }
    // Hybrid: a controller present only in the unified mount (hugetlb on some hosts).
    return hierarchies.layout == .hybrid && hierarchies.unifiedControllers.contains(controller)
  }

  func require(_ controller: String, for field: String) throws(CgroupError) {
    guard has(controller) else {
      let where_ = isV2 ? "cgroup.controllers of the v2 root" : "the mounted v1 hierarchies"
      throw CgroupError("\(field): the \(controller) controller is not available (not in \(where_))")
    }
  }

  func validate(_ r: LinuxResources) throws(CgroupError) {
    if let m = r.memory { try validateMemory(m) }
    if let c = r.cpu { try validateCPU(c) }
    if r.pids != nil { try require("pids", for: "linux.resources.pids") }
    if let b = r.blockIO { try validateBlockIO(b) }
    if let limits = r.hugepageLimits, !limits.isEmpty {
      try require("hugetlb", for: "linux.resources.hugepageLimits")
      for (i, l) in limits.enumerated() where HugePages.parse(l.pageSize) == nil {
        throw CgroupError(
          "linux.resources.hugepageLimits[\(i)].pageSize: \"\(l.pageSize)\" is not a page size like 2MB or 1GB")
      }
    }
    if let n = r.network { try validateNetwork(n) }
    if let rdma = r.rdma, !rdma.isEmpty {
      try require("rdma", for: "linux.resources.rdma")
      for name in rdma.keys where name.isEmpty || name.contains(" ") || name.contains("/") {
        throw CgroupError("linux.resources.rdma: \"\(name)\" is not an RDMA device name")
      }
    }
    if let devices = r.devices { try validateDevices(devices) }
    if let unified = r.unified, !unified.isEmpty { try validateUnified(unified) }
  }

  private func validateMemory(_ m: LinuxMemory) throws(CgroupError) {
    try require("memory", for: "linux.resources.memory")
    let p = "linux.resources.memory"
    for (name, value) in [("limit", m.limit), ("reservation", m.reservation), ("swap", m.swap)] {
      if let value, value < -1 { throw CgroupError("\(p).\(name): \(value) is neither -1 (unlimited) nor a size") }
    }
    if let swap = m.swap, let limit = m.limit, swap > 0, limit > 0, swap < limit {
      throw CgroupError(
        "\(p).swap: \(swap) is below memory.limit \(limit) (swap is the memory+swap total, so it must be >= limit)")
    }
    if let s = m.swappiness, s > 100 { throw CgroupError("\(p).swappiness: \(s) is above 100") }
    if isV2 {
      if m.disableOOMKiller == true {
        throw CgroupError("\(p).disableOOMKiller: cgroup v2 cannot disable the OOM killer; remove the setting")
      }
      if let swap = m.swap, swap != 0, m.limit == nil || m.limit == 0 {
        throw CgroupError("\(p).swap: on cgroup v2 swap needs memory.limit too (memory.swap.max = swap - limit)")
      }
    }
  }

  private func validateCPU(_ c: LinuxCPU) throws(CgroupError) {
    let p = "linux.resources.cpu"
    if c.shares != nil || c.quota != nil || c.period != nil || c.burst != nil || c.idle != nil
      || c.realtimeRuntime != nil || c.realtimePeriod != nil
    {
      try require("cpu", for: p)
    }
    if let s = c.shares, s != 0, s < 2 || s > 262_144 {
      throw CgroupError("\(p).shares: \(s) is outside 2...262144")
    }
    if let q = c.quota, q > 0, q < 1000 {
      throw CgroupError("\(p).quota: \(q) is below the kernel minimum of 1000 microseconds")
    }
    if let q = c.quota, q < -1 { throw CgroupError("\(p).quota: \(q) is neither -1 (unlimited) nor a time") }
    if let period = c.period, period != 0, period < 1000 || period > 1_000_000 {
      throw CgroupError("\(p).period: \(period) is outside 1000...1000000 microseconds")
    }
    if let b = c.burst, b > 0 {
      guard let q = c.quota, q > 0 else {
        throw CgroupError("\(p).burst: a burst needs a cpu quota")
      }
      if b > UInt64(q) { throw CgroupError("\(p).burst: \(b) is above the quota \(q)") }
    }
    if let idle = c.idle, idle != 0 && idle != 1 { throw CgroupError("\(p).idle: \(idle) is neither 0 nor 1") }
    if isV2 && (c.realtimeRuntime != nil || c.realtimePeriod != nil) {
      throw CgroupError("\(p).realtimeRuntime: cgroup v2 has no real-time CPU controller; remove realtime settings")
    }
    if let cpus = c.cpus, !cpus.isEmpty { try checkList(cpus, field: "\(p).cpus", file: "cpuset.cpus") }
    if let mems = c.mems, !mems.isEmpty { try checkList(mems, field: "\(p).mems", file: "cpuset.mems") }
  }

  /// A cpuset list must parse and stay inside what the root cpuset offers.
  private func checkList(_ list: String, field: String, file: String) throws(CgroupError) {
    try require("cpuset", for: field)
    guard let wanted = CPUList.parse(list) else {
      throw CgroupError("\(field): \"\(list)\" is not a list like 0-3,5")
    }
    var available: Set<Int>?
    var source = ""
    if let root = cpusetRoot {
      for name in isV2 ? ["\(file).effective", file] : [file, file.replacingEffective()] {
        if let text = CgroupFiles.read("\(root)/\(name)"), let set = CPUList.parse(text), !set.isEmpty {
          available = set
          source = "\(root)/\(name)"
          break
        }
      }
    }
    if available == nil, file == "cpuset.cpus", let text = CgroupFiles.read("/sys/devices/system/cpu/online") {
      available = CPUList.parse(text)
      source = "/sys/devices/system/cpu/online"
    }
    if let available, let outside = wanted.subtracting(available).min() {
      let have = CPUList.format(available)
      throw CgroupError("\(field): \(outside) is not available on this machine (\(source) is \(have))")
    }
  }

  private func validateBlockIO(_ b: LinuxBlockIO) throws(CgroupError) {
    let p = "linux.resources.blockIO"
    try require(isV2 ? "io" : "blkio", for: p)
    if let w = b.weight, w != 0, w < 10 || w > 1000 { throw CgroupError("\(p).weight: \(w) is outside 10...1000") }
    if let w = b.leafWeight, w != 0, w < 10 || w > 1000 {
      throw CgroupError("\(p).leafWeight: \(w) is outside 10...1000")
    }
    if isV2 && b.leafWeight != nil { throw CgroupError("\(p).leafWeight: cgroup v2 has no leaf weight; remove it") }
    for (i, d) in (b.weightDevice ?? []).enumerated() {
      try checkDeviceNumbers(d.major, d.minor, "\(p).weightDevice[\(i)]")
      if let w = d.weight, w < 10 || w > 1000 {
        throw CgroupError("\(p).weightDevice[\(i)].weight: \(w) is outside 10...1000")
      }
      if isV2 && d.leafWeight != nil {
        throw CgroupError("\(p).weightDevice[\(i)].leafWeight: cgroup v2 has no leaf weight; remove it")
      }
    }
    let lists: [(String, [LinuxThrottleDevice]?)] = [
      ("throttleReadBpsDevice", b.throttleReadBpsDevice), ("throttleWriteBpsDevice", b.throttleWriteBpsDevice),
      ("throttleReadIOPSDevice", b.throttleReadIOPSDevice), ("throttleWriteIOPSDevice", b.throttleWriteIOPSDevice),
    ]
    for (name, list) in lists {
      for (i, d) in (list ?? []).enumerated() { try checkDeviceNumbers(d.major, d.minor, "\(p).\(name)[\(i)]") }
    }
  }

  private func checkDeviceNumbers(_ major: Int64, _ minor: Int64, _ field: String) throws(CgroupError) {
    do {
      try IntegerRange.check(major, in: SpecValidator.deviceNumbers, "\(field).major")
      try IntegerRange.check(minor, in: SpecValidator.deviceNumbers, "\(field).minor")
    } catch { throw CgroupError(error.message) }
  }

  private func validateNetwork(_ n: LinuxNetwork) throws(CgroupError) {
    let p = "linux.resources.network"
    if isV2 && (n.classID != nil || !(n.priorities ?? []).isEmpty) {
      throw CgroupError("\(p): net_cls and net_prio are v1 controllers; cgroup v2 has no equivalent, remove them")
    }
    if n.classID != nil, hierarchies.v1["net_cls"] == nil {
      throw CgroupError("\(p).classID: the net_cls controller is not mounted on this host")
    }
    if !(n.priorities ?? []).isEmpty, hierarchies.v1["net_prio"] == nil {
      throw CgroupError("\(p).priorities: the net_prio controller is not mounted on this host")
    }
  }

  private func validateDevices(_ devices: [LinuxDeviceCgroup]) throws(CgroupError) {
    if !isV2 { try require("devices", for: "linux.resources.devices") }
    for (i, d) in devices.enumerated() {
      let p = "linux.resources.devices[\(i)]"
      if let t = d.type, !["a", "b", "c"].contains(t) {
        throw CgroupError("\(p).type: \"\(t)\" is not a (all), b (block) or c (char)")
      }
      if let a = d.access, a.isEmpty || !a.allSatisfy({ "rwm".contains($0) }) {
        throw CgroupError("\(p).access: \"\(a)\" is not a combination of r, w and m")
      }
      // -1 is the wildcard, like a missing number.
      for (name, v) in [("major", d.major), ("minor", d.minor)] {
        guard let v else { continue }
        do { try IntegerRange.check(v, in: -1...SpecValidator.deviceNumbers.upperBound, "\(p).\(name)") } catch {
          throw CgroupError(error.message)
        }
      }
    }
  }

  private func validateUnified(_ unified: [String: String]) throws(CgroupError) {
    guard hierarchies.unified != nil, isV2 || hierarchies.layout == .hybrid else {
      throw CgroupError("linux.resources.unified: this host has no cgroup v2 hierarchy; remove the unified settings")
    }
    for key in unified.keys.sorted() {
      let field = "linux.resources.unified[\"\(key)\"]"
      if key.isEmpty || key.contains("/") || key == "." || key == ".." || key.hasPrefix(".") {
        throw CgroupError("\(field): not a cgroup file name")
      }
      let controller = String(key.split(separator: ".", maxSplits: 1)[0])
      if !key.contains(".") || (controller != "cgroup" && !hierarchies.unifiedControllers.contains(controller)) {
        let have = hierarchies.unifiedControllers.sorted().joined(separator: " ")
        throw CgroupError("\(field): \"\(controller)\" is not a v2 controller on this host (available: \(have))")
      }
    }
  }
}

extension String {
  /// "cpuset.cpus" → "cpuset.effective_cpus" (the v1 spelling of the effective set).
  fileprivate func replacingEffective() -> String {
    self == "cpuset.cpus" ? "cpuset.effective_cpus" : "cpuset.effective_mems"
  }
}

/// Kernel cpu/node list syntax ("0-3,5").
enum CPUList {
  static func parse(_ text: String) -> Set<Int>? {
    var out: Set<Int> = []
    let trimmed = text.trimmingCharacters(in: " \t\n")
    if trimmed.isEmpty { return out }
    for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
      let ends = part.split(separator: "-", omittingEmptySubsequences: false)
      guard ends.count == 1 || ends.count == 2, let lo = Int(ends[0]), lo >= 0 else { return nil }
      let hi = ends.count == 2 ? Int(ends[1]) : lo
      guard let hi, hi >= lo, hi - lo < 1 << 16 else { return nil }
      for v in lo...hi { out.insert(v) }
    }
    return out
  }

  static func format(_ set: Set<Int>) -> String {
    var parts: [String] = []
    var sorted = set.sorted()[...]
    while let lo = sorted.popFirst() {
      var hi = lo
      while sorted.first == hi + 1 { hi = sorted.popFirst()! }
      parts.append(lo == hi ? "\(lo)" : "\(lo)-\(hi)")
    }
    return parts.joined(separator: ",")
  }
}

/// Huge page size names as cgroup files spell them ("2MB", "1GB").
enum HugePages {
  /// Bytes of a "2MB"-style size, or nil.
  static func parse(_ name: String) -> UInt64? {
    for (suffix, shift) in [("KB", 10), ("MB", 20), ("GB", 30)] where name.hasSuffix(suffix) {
      guard let n = UInt64(name.dropLast(2)), n > 0, n <= UInt64.max >> UInt64(shift) else { return nil }
      return n << UInt64(shift)
    }
    return nil
  }

  /// Sizes the kernel offers, from /sys/kernel/mm/hugepages ("hugepages-2048kB" → "2MB").
  static func available(sysfs: String = "/sys/kernel/mm/hugepages") -> [String] {
    let names = (try? FileIO.listDirectory(sysfs)) ?? []
    return names.compactMap { name -> String? in
      guard name.hasPrefix("hugepages-"), name.hasSuffix("kB"), let kb = UInt64(name.dropFirst(10).dropLast(2))
      else { return nil }
      if kb >= 1 << 20, kb % (1 << 20) == 0 { return "\(kb >> 20)GB" }
      if kb >= 1 << 10, kb % (1 << 10) == 0 { return "\(kb >> 10)MB" }
      return "\(kb)KB"
    }.sorted()
  }
}
