import CSeccomp
import CShims
import CellaOCI

/// Name tables shared by the compiler and the features report, so that what
/// `features` advertises is exactly what `compile` accepts.
enum SeccompTables {
  /// Kernel SECCOMP_FILTER_FLAG_* bits (linux/seccomp.h).
  enum FilterFlag {
    static let tsync: UInt32 = 1 << 0
    static let log: UInt32 = 1 << 1
    static let specAllow: UInt32 = 1 << 2
    static let newListener: UInt32 = 1 << 3
    static let waitKillableRecv: UInt32 = 1 << 5
  }

  /// The kernel SECCOMP_RET_* value of a spec action, before the errno/trace data is or-ed in.
  /// libseccomp's SCMP_ACT_* are macros Swift cannot import, and they are the kernel values anyway.
  static func value(of action: SeccompAction) -> UInt32 {
    switch action {
    case .SCMP_ACT_KILL, .SCMP_ACT_KILL_THREAD: 0x0000_0000
    case .SCMP_ACT_KILL_PROCESS: 0x8000_0000
    case .SCMP_ACT_TRAP: 0x0003_0000
    case .SCMP_ACT_ERRNO: 0x0005_0000
    case .SCMP_ACT_TRACE: 0x7ff0_0000
    case .SCMP_ACT_ALLOW: 0x7fff_0000
    case .SCMP_ACT_LOG: 0x7ffc_0000
    case .SCMP_ACT_NOTIFY: 0x7fc0_0000
    }
  }

  /// libseccomp's comparison for a spec operator.
  static func compare(_ op: SeccompOperator) -> scmp_compare {
    switch op {
    case .SCMP_CMP_NE: SCMP_CMP_NE
    case .SCMP_CMP_LT: SCMP_CMP_LT
    case .SCMP_CMP_LE: SCMP_CMP_LE
    case .SCMP_CMP_EQ: SCMP_CMP_EQ
    case .SCMP_CMP_GE: SCMP_CMP_GE
    case .SCMP_CMP_GT: SCMP_CMP_GT
    case .SCMP_CMP_MASKED_EQ: SCMP_CMP_MASKED_EQ
    }
  }

  /// Every architecture name the spec defines; `SeccompFeatures.archs` keeps
  /// the ones the installed libseccomp resolves.
  static let architectureNames: [String] = [
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
  ]

  /// The spec's flag names with their kernel bits. TSYNC maps to 0: the
  /// container's init is single-threaded, so synchronising threads is a no-op,
  /// and combining it with NEW_LISTENER would need TSYNC_ESRCH as well.
  static let flags: [(name: String, bit: UInt32)] = [
    ("SECCOMP_FILTER_FLAG_TSYNC", 0),
    ("SECCOMP_FILTER_FLAG_LOG", FilterFlag.log),
    ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", FilterFlag.specAllow),
    ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", FilterFlag.waitKillableRecv),
  ]

  /// libseccomp's token for an architecture name (`SCMP_ARCH_X86_64` ->
  /// SCMP_ARCH_X86_64's AUDIT_ARCH value), or nil when it does not know it.
  static func resolveArchitecture(_ name: String) -> UInt32? {
    let prefix = "SCMP_ARCH_"
    guard name.hasPrefix(prefix), name.count > prefix.count else { return nil }
    let short = String(name.dropFirst(prefix.count)).lowercased()
    let token = seccomp_arch_resolve_name(short)
    return token == 0 ? nil : token
  }

  /// Whether the running kernel accepts `bit` for SECCOMP_SET_MODE_FILTER.
  static func kernelSupports(flag bit: UInt32) -> Bool {
    if bit == 0 { return true }
    // The kernel rejects WAIT_KILLABLE_RECV unless NEW_LISTENER comes with it.
    let probe = bit == FilterFlag.waitKillableRecv ? bit | FilterFlag.newListener : bit
    return cella_seccomp_flags_supported(probe) == 0
  }
}
