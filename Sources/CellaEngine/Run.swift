import CShims
import CellaOCI
import CellaRuntimeCore
import CellaSys
import Glibc

extension Creator {
  /// `run`: create, start and (unless detached) wait, forwarding signals; returns the exit code
  /// (128 + signal when the container was killed).
  public func run(_ options: CreateOptions, detach: Bool, keep: Bool) throws(RuntimeError) -> Int32 {
    let lifecycle = Lifecycle(store: store, log: log)
    if !detach {
      // Init may be a grandchild (pid namespace joined after other joins): adopt it when its parent exits.
      _ = cella_prctl(Prctl.setChildSubreaper, 1, 0, 0, 0)
      var all = sigset_t()
      cella_sigset_fill(&all)
      sigprocmask(SIG_BLOCK, &all, nil)
    }
    var options = options
    options.foreground = !detach
    let result = try create(options)
    do { try lifecycle.start(id: options.id) } catch {
      if let master = result.master { close(master) }
      if !keep {
        do { try lifecycle.delete(id: options.id, force: true) } catch { log.warning(error.message) }
      }
      throw error
    }
    if detach { return 0 }
    let code = Foreground(pid: result.record.pid, master: result.master).wait()
    if let master = result.master { close(master) }
    if !keep { try lifecycle.delete(id: options.id, force: true) }
    return code
  }
}
