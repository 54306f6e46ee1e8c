import CShims
import CellaSys
import Foundation
import Glibc
import Synchronization

/// Watches every running guest's keeper through a pidfd on one thread, and reports each keeper's end
/// once. The keepers are not the daemon's children (they outlive it), so a pidfd is the only way to
/// wait for them without polling. A pipe wakes the thread when the set changes.
final class Supervisor: Sendable {
  /// pidfd → guest name and keeper pid.
  private let watched = Mutex<[Int32: (name: String, pid: Int32)]>([:])
  private let wakeRead: Int32
  private let wakeWrite: Int32

  init() {
    var ends: [Int32] = [-1, -1]
    _ = cella_pipe2(&ends, O_CLOEXEC | O_NONBLOCK)
    wakeRead = ends[0]
    wakeWrite = ends[1]
  }

  /// Starts the watching thread; `ended` runs on a global queue for each keeper that ends.
  func start(_ ended: @escaping @Sendable (String) -> Void) {
    let wake = wakeRead
    Thread.detachNewThread { [self] in
      var drain = [UInt8](repeating: 0, count: 256)
      while true {
        var fds = [pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
        fds += watched.withLock { $0.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) } }
        let n = poll(&fds, nfds_t(fds.count), -1)
        if n < 0 {
          if errno == EINTR { continue }
          return
        }
        if fds[0].revents != 0 { while read(wake, &drain, drain.count) > 0 {} }
        for p in fds.dropFirst() where p.revents != 0 {
          let entry = watched.withLock { $0.removeValue(forKey: p.fd) }
          close(p.fd)
          guard let entry else { continue }
          // A keeper this daemon spawned is its child until it exits: reap it (one re-adopted from an
          // earlier daemon is not, and waitpid says ECHILD).
          _ = waitpid(entry.pid, nil, WNOHANG)
          DispatchQueue.global().async { ended(entry.name) }
        }
      }
    }
  }

  /// Watches the keeper `pid` of guest `name` if it is still the process that started at `startTime`.
  /// Returns false when it is gone already (the caller finishes the guest itself).
  @discardableResult
  func watch(_ name: String, pid: Int32, startTime: UInt64?) -> Bool {
    guard let fd = try? FileDescriptor.pidfd(pid) else { return false }
    if let startTime, ProcStat.read(pid)?.startTime != startTime { return false }
    let raw = fd.release()
    watched.withLock { $0[raw] = (name, pid) }
    var one: UInt8 = 1
    _ = write(wakeWrite, &one, 1)
    return true
  }

  /// How many keepers are watched.
  var count: Int { watched.withLock { $0.count } }
}
