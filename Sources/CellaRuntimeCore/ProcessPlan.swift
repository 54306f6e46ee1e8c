import CellaOCI
import CellaSecurity
import Glibc

extension RlimitType {
  /// The resource number setrlimit(2) takes for it.
  var resource: Int32 {
    let resource: __rlimit_resource =
      switch self {
      case .RLIMIT_CPU: Glibc.RLIMIT_CPU
      case .RLIMIT_FSIZE: Glibc.RLIMIT_FSIZE
      case .RLIMIT_DATA: Glibc.RLIMIT_DATA
      case .RLIMIT_STACK: Glibc.RLIMIT_STACK
      case .RLIMIT_CORE: Glibc.RLIMIT_CORE
      case .RLIMIT_RSS: Glibc.__RLIMIT_RSS
      case .RLIMIT_NPROC: Glibc.__RLIMIT_NPROC
      case .RLIMIT_NOFILE: Glibc.RLIMIT_NOFILE
      case .RLIMIT_MEMLOCK: Glibc.__RLIMIT_MEMLOCK
      case .RLIMIT_AS: Glibc.RLIMIT_AS
      case .RLIMIT_LOCKS: Glibc.__RLIMIT_LOCKS
      case .RLIMIT_SIGPENDING: Glibc.__RLIMIT_SIGPENDING
      case .RLIMIT_MSGQUEUE: Glibc.__RLIMIT_MSGQUEUE
      case .RLIMIT_NICE: Glibc.__RLIMIT_NICE
      case .RLIMIT_RTPRIO: Glibc.__RLIMIT_RTPRIO
      case .RLIMIT_RTTIME: Glibc.__RLIMIT_RTTIME
      }
    return Int32(resource.rawValue)
  }
}

/// A process to start in a container (init's user program, or an `exec`), resolved before any fork.
package struct ProcessPlan: Sendable {
  package var args: [String] = []
  package var env: [String] = []
  package var cwd = "/"
  package var uid: UInt32 = 0
  package var gid: UInt32 = 0
  package var additionalGids: [UInt32] = []
  package var umask: mode_t? = nil
  package var rlimits: [(resource: Int32, soft: UInt64, hard: UInt64, name: String)] = []
  package var oomScoreAdj: Int? = nil
  package var noNewPrivileges = false
  /// nil when process.capabilities is absent (the process keeps what it has).
  package var capabilities: CapabilityPlan? = nil
  package var preserveFDs: Int32 = 0
  package var terminal = false
  /// The container's seccomp filter, compiled by libseccomp in the parent; init only loads it.
  package var seccomp: CompiledSeccomp? = nil
  package var consoleSize: (height: UInt16, width: UInt16)? = nil

  init() {}

  /// Resolves an OCI process; errors name `field` (process, or the --process file).
  package init(_ process: Process, field: String) throws(RuntimeError) {
    args = process.args ?? []
    env = process.env ?? []
    cwd = process.cwd
    uid = process.user.uid
    gid = process.user.gid
    additionalGids = process.user.additionalGids ?? []
    umask = process.user.umask.map { mode_t($0) }
    for (i, r) in (process.rlimits ?? []).enumerated() {
      guard let res = RlimitType(rawValue: r.type)?.resource else {
        throw RuntimeError(
          "config.json: \(field).rlimits[\(i)].type: unknown rlimit \"\(r.type)\"", kind: .invalidArgument)
      }
      rlimits.append((res, r.soft, r.hard, r.type))
    }
    oomScoreAdj = process.oomScoreAdj
    noNewPrivileges = process.noNewPrivileges ?? false
    if let caps = process.capabilities {
      do { capabilities = try Capabilities.plan(caps) } catch { throw RuntimeError(error) }
    }
    terminal = process.terminal ?? false
    if let size = process.consoleSize {
      do {
        consoleSize = (
          try IntegerRange.convert(size.height, to: UInt16.self, "config.json: \(field).consoleSize.height"),
          try IntegerRange.convert(size.width, to: UInt16.self, "config.json: \(field).consoleSize.width")
        )
      } catch { throw RuntimeError(error) }
    }
  }
}
