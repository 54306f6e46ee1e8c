import ArgumentParser
import CellaOCI
import CellaRuntime
import CellaSys

struct UpdateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "update", abstract: "Change the resource limits of a container while it runs.")

  @OptionGroup var global: GlobalOptions
  @Option(name: [.customShort("r"), .long], help: "JSON file with linux.resources (- for stdin).") var resources:
    String?
  @Option(name: .customLong("blkio-weight"), help: "Block IO weight (10-1000).") var blkioWeight: UInt16?
  @Option(name: .customLong("cpu-period"), help: "CPU CFS period (us).") var cpuPeriod: UInt64?
  @Option(name: .customLong("cpu-quota"), help: "CPU CFS quota (us).") var cpuQuota: Int64?
  @Option(name: .customLong("cpu-share"), help: "CPU shares.") var cpuShare: UInt64?
  @Option(name: .customLong("cpu-rt-period"), help: "CPU realtime period (us).") var cpuRtPeriod: UInt64?
  @Option(name: .customLong("cpu-rt-runtime"), help: "CPU realtime runtime (us).") var cpuRtRuntime: Int64?
  @Option(name: .customLong("cpuset-cpus"), help: "CPUs to use (0-3, 0,1).") var cpusetCpus: String?
  @Option(name: .customLong("cpuset-mems"), help: "Memory nodes to use.") var cpusetMems: String?
  @Option(help: "Memory limit (bytes, or with k/m/g).") var memory: String?
  @Option(name: .customLong("memory-reservation"), help: "Memory soft limit.") var memoryReservation: String?
  @Option(name: .customLong("memory-swap"), help: "Memory plus swap limit (-1 for unlimited).") var memorySwap: String?
  @Option(name: .customLong("kernel-memory-tcp"), help: "Kernel TCP buffer limit.") var kernelMemoryTCP: String?
  @Option(name: .customLong("pids-limit"), help: "Maximum number of pids (-1 for unlimited).") var pidsLimit: Int64?
  @Argument(help: "Container id.") var id: String

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      var r = LinuxResources()
      if let file = resources {
        let bytes =
          file == "-"
          ? try RuntimeError.wrap("read --resources from stdin") { try FileIO.readAll(fd: 0) }
          : try RuntimeError.wrap("--resources \(file)") { try FileIO.read(file) }
        do { r = try OCIJSON.decode(LinuxResources.self, from: bytes, file: file == "-" ? "stdin" : file) } catch {
          throw RuntimeError("\(error)")
        }
      }
      var mem = r.memory ?? LinuxMemory()
      if let v = memory { mem.limit = try bytes(v, "--memory") }
      if let v = memoryReservation { mem.reservation = try bytes(v, "--memory-reservation") }
      if let v = memorySwap { mem.swap = try bytes(v, "--memory-swap") }
      if let v = kernelMemoryTCP { mem.kernelTCP = try bytes(v, "--kernel-memory-tcp") }
      if mem != LinuxMemory() { r.memory = mem }
      var cpu = r.cpu ?? LinuxCPU()
      if let v = cpuShare { cpu.shares = v }
      if let v = cpuQuota { cpu.quota = v }
      if let v = cpuPeriod { cpu.period = v }
      if let v = cpuRtPeriod { cpu.realtimePeriod = v }
      if let v = cpuRtRuntime { cpu.realtimeRuntime = v }
      if let v = cpusetCpus { cpu.cpus = v }
      if let v = cpusetMems { cpu.mems = v }
      if cpu != LinuxCPU() { r.cpu = cpu }
      if let v = pidsLimit { r.pids = LinuxPids(limit: v) }
      if let v = blkioWeight {
        var b = r.blockIO ?? LinuxBlockIO()
        b.weight = v
        r.blockIO = b
      }
      try Lifecycle(store: global.store, log: global.logger).update(id: id, resources: r)
    }
  }

  /// "512m", "1g", "1048576", "-1" → bytes.
  private func bytes(_ text: String, _ flag: String) throws(RuntimeError) -> Int64 {
    if text == "-1" { return -1 }
    let lower = text.lowercased()
    let units: [(String, Int64)] = [
      ("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("k", 1 << 10), ("m", 1 << 20),
      ("g", 1 << 30), ("b", 1),
    ]
    for (suffix, factor) in units where lower.hasSuffix(suffix) {
      if let n = Int64(lower.dropLast(suffix.count)), n >= 0 { return n * factor }
    }
    guard let n = Int64(lower), n >= 0 else {
      throw RuntimeError("\(flag): \"\(text)\" is not a size (use 512m, 1g, or bytes)")
    }
    return n
  }
}
