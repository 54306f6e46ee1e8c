import CellaCgroups
import CellaOCI
import CellaSys
import Glibc

extension Lifecycle {
  /// `update`: validates new limits, applies them live, and records them in the container's config copy.
  public func update(id: String, resources: LinuxResources) throws(RuntimeError) {
    let lock = try store.lock(id)
    defer { close(lock) }
    let record = try store.load(id)
    let status = record.status
    guard status == .running || status == .paused || status == .created else {
      throw RuntimeError("cannot update container \"\(id)\": it is \(status.rawValue)")
    }
    guard let path = record.cgroupPath else { throw RuntimeError("cannot update \"\(id)\": it has no cgroup") }
    let cgroups = hostCgroups
    var spec = try store.loadConfig(id)
    let effective = DeviceRules.effective(resources, devices: spec.linux?.devices ?? []) ?? resources
    do {
      try cgroups.validate(effective)
      try cgroups.apply(path, effective)
    } catch { throw RuntimeError(error.message) }
    var linux = spec.linux ?? Linux()
    linux.resources = merge(linux.resources ?? LinuxResources(), resources)
    spec.linux = linux
    try store.saveConfig(id, OCIJSON.encode(spec))
  }

  /// Overlays the set fields of `new` on `old` (what `update` changes, everything else kept).
  func merge(_ old: LinuxResources, _ new: LinuxResources) -> LinuxResources {
    var r = old
    if let m = new.memory {
      var mem = r.memory ?? LinuxMemory()
      if let v = m.limit { mem.limit = v }
      if let v = m.reservation { mem.reservation = v }
      if let v = m.swap { mem.swap = v }
      if let v = m.kernel { mem.kernel = v }
      if let v = m.kernelTCP { mem.kernelTCP = v }
      if let v = m.swappiness { mem.swappiness = v }
      if let v = m.disableOOMKiller { mem.disableOOMKiller = v }
      r.memory = mem
    }
    if let c = new.cpu {
      var cpu = r.cpu ?? LinuxCPU()
      if let v = c.shares { cpu.shares = v }
      if let v = c.quota { cpu.quota = v }
      if let v = c.period { cpu.period = v }
      if let v = c.burst { cpu.burst = v }
      if let v = c.realtimeRuntime { cpu.realtimeRuntime = v }
      if let v = c.realtimePeriod { cpu.realtimePeriod = v }
      if let v = c.cpus { cpu.cpus = v }
      if let v = c.mems { cpu.mems = v }
      if let v = c.idle { cpu.idle = v }
      r.cpu = cpu
    }
    if let p = new.pids { r.pids = p }
    if let b = new.blockIO { r.blockIO = b }
    if let h = new.hugepageLimits { r.hugepageLimits = h }
    if let n = new.network { r.network = n }
    if let u = new.unified { r.unified = (r.unified ?? [:]).merging(u) { $1 } }
    if let d = new.devices { r.devices = d }
    if let rd = new.rdma { r.rdma = rd }
    return r
  }
}
