// Closed sets of names the spec allows in a field. Each is an enum so that the code giving a name
// its kernel meaning (CellaSecurity, the runtime) switches over it exhaustively: a name added here
// cannot be validated and then not applied.

/// `process.rlimits[].type`.
public enum RlimitType: String, Sendable, CaseIterable {
  case RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS, RLIMIT_NPROC, RLIMIT_NOFILE
  case RLIMIT_MEMLOCK, RLIMIT_AS, RLIMIT_LOCKS, RLIMIT_SIGPENDING, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO
  case RLIMIT_RTTIME
}

/// `linux.devices[].type`: character, block, unbuffered character, or FIFO.
public enum DeviceType: String, Sendable, CaseIterable {
  case c, b, u, p

  /// The device cgroup's rule type for it ("c" or "b"); a FIFO has no device numbers and no rule.
  public var cgroupType: String? {
    switch self {
    case .c, .u: "c"
    case .b: "b"
    case .p: nil
    }
  }
}

/// `linux.seccomp` actions (defaultAction, syscalls[].action).
public enum SeccompAction: String, Sendable, CaseIterable {
  case SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE
  case SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY
}

/// `linux.seccomp.syscalls[].args[].op`.
public enum SeccompOperator: String, Sendable, CaseIterable {
  case SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ
}
