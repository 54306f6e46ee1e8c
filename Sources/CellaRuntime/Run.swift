import CShims
import CellaOCI
import CellaSys
import Glibc

extension Creator {
  /// `run`: create, start and (unless detached) wait, forwarding signals; returns the exit code
  /// (128 + signal when the container was killed).
  public func run(_ options: CreateOptions, detach: Bool, keep: Bool) throws(RuntimeError) -> Int32 {
    let lifecycle = Lifecycle(store: store, log: log)
    var forwarded = sigset_t()
    if !detach {
      // Init may be a grandchild (pid namespace joined after other joins): adopt it when its parent exits.
      _ = cella_prctl(Prctl.setChildSubreaper, 1, 0, 0, 0)
      cella_sigset_fill(&forwarded)
      sigprocmask(SIG_BLOCK, &forwarded, nil)
    }
    let result = try create(options)
    do { try lifecycle.start(id: options.id) } catch {
      if !keep { try? lifecycle.delete(id: options.id, force: true) }
      throw error
    }
    if detach { return 0 }
    let pid = result.record.pid
    var code: Int32 = 0
    waiting: while true {
      var info = siginfo_t()
      let sig = sigwaitinfo(&forwarded, &info)
      if sig < 0 { continue }
      if sig == SIGCHLD {
        while true {
          var status: Int32 = 0
          let p = waitpid(-1, &status, WNOHANG)
          if p <= 0 { break }
          if p == pid {
            code = Processes.exitCode(status: status)
            break waiting
          }
        }
      } else {
        Glibc.kill(pid, sig)
      }
    }
    if !keep { try lifecycle.delete(id: options.id, force: true) }
    return code
  }
}
