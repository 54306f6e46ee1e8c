/// Resource usage of a cgroup, shaped (and JSON-keyed) like runc's `events --stats` data.
public struct CgroupStats: Sendable, Codable, Equatable {
  public var cpu = CPU()
  public var memory = Memory()
  public var pids = Pids()
  public var blkio = Blkio()
  /// Page size ("2MB") → usage.
  public var hugetlb: [String: Hugetlb] = [:]

  /// Empty stats (every counter 0).
  public init() {}

  /// CPU time in nanoseconds and CFS throttling counters.
  public struct CPU: Sendable, Codable, Equatable {
    public var usage = Usage()
    public var throttling = Throttling()
    public init() {}
  }

  /// CPU time consumed (nanoseconds).
  public struct Usage: Sendable, Codable, Equatable {
    public var total: UInt64 = 0
    public var percpu: [UInt64] = []
    public var percpu_kernel: [UInt64] = []
    public var percpu_user: [UInt64] = []
    public var kernel: UInt64 = 0
    public var user: UInt64 = 0
    public init() {}
  }

  /// CFS bandwidth throttling (time in nanoseconds).
  public struct Throttling: Sendable, Codable, Equatable {
    public var periods: UInt64 = 0
    public var throttledPeriods: UInt64 = 0
    public var throttledTime: UInt64 = 0
    public init() {}
  }

  /// Memory usage; limits that are unlimited read as UInt64.max.
  public struct Memory: Sendable, Codable, Equatable {
    public var cache: UInt64 = 0
    public var usage = MemoryEntry()
    public var swap = MemoryEntry()
    public var kernel = MemoryEntry()
    public var kernelTCP = MemoryEntry()
    /// memory.stat as the kernel wrote it.
    public var raw: [String: UInt64] = [:]
    public init() {}
  }

  /// One memory counter with its limit.
  public struct MemoryEntry: Sendable, Codable, Equatable {
    public var limit: UInt64 = 0
    public var usage: UInt64 = 0
    public var max: UInt64 = 0
    public var failcnt: UInt64 = 0
    public init() {}
  }

  /// Task count and limit (0 = no limit).
  public struct Pids: Sendable, Codable, Equatable {
    public var current: UInt64 = 0
    public var limit: UInt64 = 0
    public init() {}
  }

  /// Per-device I/O counters.
  public struct Blkio: Sendable, Codable, Equatable {
    public var ioServiceBytesRecursive: [BlkioEntry] = []
    public var ioServicedRecursive: [BlkioEntry] = []
    public init() {}
  }

  /// One I/O counter for one device and operation ("Read", "Write", ...).
  public struct BlkioEntry: Sendable, Codable, Equatable {
    public var major: UInt64
    public var minor: UInt64
    public var op: String
    public var value: UInt64
    public init(major: UInt64, minor: UInt64, op: String, value: UInt64) {
      self.major = major
      self.minor = minor
      self.op = op
      self.value = value
    }
  }

  /// Huge page usage for one page size.
  public struct Hugetlb: Sendable, Codable, Equatable {
    public var usage: UInt64 = 0
    public var max: UInt64 = 0
    public var failcnt: UInt64 = 0
    public init() {}
  }
}

extension UInt64 {
  /// A counter read from a cgroup file times a unit factor; saturates instead of trapping, since the
  /// file's value is the kernel's (or a test tree's) and may be anything.
  func scaled(by factor: UInt64) -> UInt64 {
    let (product, overflow) = multipliedReportingOverflow(by: factor)
    return overflow ? .max : product
  }
}
