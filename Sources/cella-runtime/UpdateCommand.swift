import CellaEngine
import CellaOCI
import CellaRuntimeCore
import CellaSys

enum UpdateCommand: Verb {
  static let name = "update"
  static let abstract = "change the resource limits of a container while it runs"
  static let arguments = "ID"
  static let flags: [FlagSpec] = [
    FlagSpec("resources", short: "r", value: true, "JSON file with linux.resources (- for stdin)"),
    FlagSpec("blkio-weight", value: true, "block IO weight (10-1000)"),
    FlagSpec("cpu-period", value: true, "CPU CFS period (us)"),
    FlagSpec("cpu-quota", value: true, "CPU CFS quota (us)"),
    FlagSpec("cpu-share", value: true, "CPU shares"),
    FlagSpec("cpu-rt-period", value: true, "CPU realtime period (us)"),
    FlagSpec("cpu-rt-runtime", value: true, "CPU realtime runtime (us)"),
    FlagSpec("cpuset-cpus", value: true, "CPUs to use (0-3, 0,1)"),
    FlagSpec("cpuset-mems", value: true, "memory nodes to use"),
    FlagSpec("memory", value: true, "memory limit (bytes, or with k/m/g)"),
    FlagSpec("memory-reservation", value: true, "memory soft limit"),
    FlagSpec("memory-swap", value: true, "memory plus swap limit (-1 for unlimited)"),
    FlagSpec("kernel-memory", value: true, hidden: true, "deprecated by the kernel; ignored"),
    FlagSpec("kernel-memory-tcp", value: true, "kernel TCP buffer limit"),
    FlagSpec("pids-limit", value: true, "maximum number of pids (-1 for unlimited)"),
  ]

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    let id = try id(args)
    var r = LinuxResources()
    if let file = args.string("resources") {
      r = try InputFile.decode(LinuxResources.self, from: file, flag: "--resources")
    }
    var mem = r.memory ?? LinuxMemory()
    if let v = args.string("memory") { mem.limit = try bytes(v, "--memory") }
    if let v = args.string("memory-reservation") { mem.reservation = try bytes(v, "--memory-reservation") }
    if let v = args.string("memory-swap") { mem.swap = try bytes(v, "--memory-swap") }
    if let v = args.string("kernel-memory-tcp") { mem.kernelTCP = try bytes(v, "--kernel-memory-tcp") }
    if mem != LinuxMemory() { r.memory = mem }
    var cpu = r.cpu ?? LinuxCPU()
    try parsing { () throws(UsageError) in
      if let v = try args.int("cpu-share", as: UInt64.self) { cpu.shares = v }
      if let v = try args.int("cpu-quota", as: Int64.self) { cpu.quota = v }
      if let v = try args.int("cpu-period", as: UInt64.self) { cpu.period = v }
      if let v = try args.int("cpu-rt-period", as: UInt64.self) { cpu.realtimePeriod = v }
      if let v = try args.int("cpu-rt-runtime", as: Int64.self) { cpu.realtimeRuntime = v }
      if let v = try args.int("pids-limit", as: Int64.self) { r.pids = LinuxPids(limit: v) }
      if let v = try args.int("blkio-weight", as: UInt16.self) {
        var b = r.blockIO ?? LinuxBlockIO()
        b.weight = v
        r.blockIO = b
      }
    }
    if let v = args.string("cpuset-cpus") { cpu.cpus = v }
    if let v = args.string("cpuset-mems") { cpu.mems = v }
    if cpu != LinuxCPU() { r.cpu = cpu }
    try Lifecycle(store: global.store, log: global.logger).update(id: id, resources: r)
    return 0
  }

  /// "512m", "1g", "1048576", "-1" → bytes.
  private static func bytes(_ text: String, _ flag: String) throws(RuntimeError) -> Int64 {
    if text == "-1" { return -1 }
    let lower = text.lowercased()
    let units: [(String, Int64)] = [
      ("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("b", 1),
    ]
    for (suffix, factor) in units where lower.hasSuffix(suffix) {
      guard let n = Int64(lower.dropLast(suffix.count)), n >= 0 else { continue }
      do { return try IntegerRange.check(n, in: 0...(Int64.max / factor), flag) * factor } catch {
        throw RuntimeError(error.message + " (\(suffix))", kind: .invalidArgument)
      }
    }
    guard let n = Int64(lower), n >= 0 else {
      throw RuntimeError("\(flag): \"\(text)\" is not a size (use 512m, 1g, or bytes)", kind: .invalidArgument)
    }
    return n
  }
}
