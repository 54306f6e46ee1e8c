import CellaOCI
import CellaSecurity
import Glibc

/// Resource names of process.rlimits.
let rlimitResources: [String: Int32] = [
  "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4, "RLIMIT_RSS": 5,
  "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9, "RLIMIT_LOCKS": 10,
  "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13, "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
]

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
      guard let res = rlimitResources[r.type] else {
        throw RuntimeError("config.json: \(field).rlimits[\(i)].type: unknown rlimit \"\(r.type)\"")
      }
      rlimits.append((res, r.soft, r.hard, r.type))
    }
    oomScoreAdj = process.oomScoreAdj
    noNewPrivileges = process.noNewPrivileges ?? false
    if let caps = process.capabilities {
      do { capabilities = try Capabilities.plan(caps) } catch { throw RuntimeError(error.message) }
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
