import CellaAPI
import Glibc

/// How a guest's run ended, worked out from what its keeper saw and what cella asked for.
enum ExitReasoning {
  /// The reason for an exit: a stop cella asked for wins, then seccomp (SIGSYS), then the OOM killer
  /// (SIGKILL with the cgroup's oom_kill counter up), then any other signal, then a plain exit.
  static func reason(
    code: Int?, signal: Int?, stopRequested: Bool, killRequested: Bool, oomKilled: Bool
  ) -> ExitReason {
    if stopRequested { return .stopped }
    if code == nil && signal == nil { return .unknown }
    if let s = signal {
      if s == Int(SIGSYS) { return .seccomp }
      if s == Int(SIGKILL) && oomKilled && !killRequested { return .oom }
      return .killed
    }
    if oomKilled && code == 137 { return .oom }
    return .exited
  }

  /// A VM's reason: a stop or kill cella asked for wins; then what QEMU's last shutdown event says
  /// the guest did; then QEMU's own failure (a non-zero exit, or a signal nobody at cella sent).
  static func vmReason(
    code: Int?, signal: Int?, event: String?, stopRequested: Bool, killRequested: Bool, oomKilled: Bool
  ) -> ExitReason {
    if stopRequested { return .stopped }
    if killRequested { return .killed }
    if code == nil && signal == nil { return .unknown }
    switch event {
    case "guest-panic": return .guestPanic
    case "guest-reset": return .guestReset
    case "guest-shutdown": return .guestShutdown
    default: break
    }
    if oomKilled { return .oom }
    if signal == Int(SIGSYS) { return .seccomp }
    if signal != nil { return .killed }
    return code == 0 ? .guestShutdown : .vmFailed
  }

  /// Whether `boot.restart` restarts a guest whose run ended so, after `restarts` restarts already.
  static func shouldRestart(policy: RestartPolicy, exit: ExitInfo, restarts: Int) -> Bool {
    if exit.reason == .stopped { return false }
    switch policy {
    case .no: return false
    case .always: return true
    case .onFailure(let limit):
      let failed = !((exit.reason == .exited && exit.code == 0) || exit.reason == .guestShutdown)
      guard failed else { return false }
      if let limit { return restarts < limit }
      return true
    }
  }

  /// The back-off before restart number `restarts + 1`: `base` doubled per restart, at most `max`.
  static func delay(restarts: Int, base: Double, max: Double) -> Double {
    var d = base
    for _ in 0..<min(restarts, 30) { d *= 2 }
    return Swift.min(d, max)
  }
}
