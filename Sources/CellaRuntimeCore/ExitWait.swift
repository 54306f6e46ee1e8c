import CShims
import CellaSys
import Glibc

/// Waiting for processes that are not our children to exit, through their pidfds: poll(2) reports a
/// pidfd readable once its process has exited. No signal, no sleep, no reaping of anyone's children,
/// so any thread may wait.
package enum ExitWait {
  /// Waits until every pidfd in `pidfds` is readable or `timeoutMillis` pass; true if all exited.
  package static func all(_ pidfds: [Int32], timeoutMillis: Int64) -> Bool {
    var pending = pidfds.filter { $0 >= 0 }
    let deadline = monotonicMillis() + timeoutMillis
    while !pending.isEmpty {
      let left = deadline - monotonicMillis()
      if left <= 0 { return false }
      var fds = pending.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      let n = poll(&fds, nfds_t(fds.count), Int32(min(left, Int64(Int32.max))))
      if n < 0 {
        if errno == EINTR { continue }
        return false
      }
      pending = fds.filter { $0.revents == 0 }.map(\.fd)
    }
    return true
  }

  /// Opens pidfds for `pids`, skipping those already gone; the caller closes them.
  package static func open(_ pids: [Int32]) -> [(pid: Int32, fd: Int32)] {
    pids.compactMap { pid in
      let fd = cella_pidfd_open(pid, 0)
      return fd >= 0 ? (pid, fd) : nil
    }
  }
}
