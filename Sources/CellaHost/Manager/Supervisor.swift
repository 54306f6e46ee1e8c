import CellaSys
import Foundation
import Glibc
import Synchronization

/// Watches every running guest's keeper through a pidfd in one epoll set on one thread, and reports
/// each keeper's end once. The keepers are not the daemon's children (they outlive it), so a pidfd is
/// the only way to wait for them without polling.
final class Supervisor: Sendable {
  private let epoll: Int32
  /// pidfd → guest name.
  private let watched = Mutex<[Int32: String]>([:])

  init() {
    epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
  }

  /// Starts the watching thread; `ended` runs on a global queue for each keeper that ends.
  func start(_ ended: @escaping @Sendable (String) -> Void) {
    let epoll = self.epoll
    let watched = self.watched
    Thread.detachNewThread {
      var events = [epoll_event](repeating: epoll_event(), count: 64)
      while true {
        let n = epoll_wait(epoll, &events, Int32(events.count), -1)
        if n < 0 {
          if errno == EINTR { continue }
          return
        }
        for i in 0..<Int(n) {
          let fd = events[i].data.fd
          let name = watched.withLock { $0.removeValue(forKey: fd) }
          epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
          close(fd)
          if let name { DispatchQueue.global().async { ended(name) } }
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
    watched.withLock { $0[raw] = name }
    var ev = epoll_event()
    ev.events = EPOLLIN.rawValue
    ev.data.fd = raw
    if epoll_ctl(epoll, EPOLL_CTL_ADD, raw, &ev) != 0 {
      _ = watched.withLock { $0.removeValue(forKey: raw) }
      close(raw)
      return false
    }
    return true
  }

  /// How many keepers are watched.
  var count: Int { watched.withLock { $0.count } }
}
