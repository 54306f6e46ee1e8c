import CShims
import CellaCgroups
import CellaOCI
import CellaSys
import Glibc

extension Lifecycle {
  /// One `events --stats` line in runc's shape: {"type":"stats","id":…,"data":{…}}.
  public func statsEvent(id: String) throws(RuntimeError) -> String {
    let record = try store.load(id)
    guard let path = record.cgroupPath else {
      throw RuntimeError("container \"\(id)\" has no cgroup", kind: .invalidState)
    }
    guard record.status != .stopped else { throw RuntimeError("container \"\(id)\" is stopped", kind: .invalidState) }
    let stats = hostCgroups.stats(path)
    let data = String(decoding: OCIJSON.encode(stats, pretty: false, trailingNewline: false), as: UTF8.self)
    return "{\"type\":\"stats\",\"id\":\(jsonQuote(id)),\"data\":\(data)}"
  }

  /// `events`: stats every `intervalMillis` milliseconds and an `oom` event whenever the kernel
  /// OOM-kills in the container, until it stops. `emit` receives each JSON line.
  public func events(id: String, intervalMillis: Int64, emit: (String) -> Void) throws(RuntimeError) {
    let record = try store.load(id)
    guard let path = record.cgroupPath else {
      throw RuntimeError("container \"\(id)\" has no cgroup", kind: .invalidState)
    }
    let cgroups = hostCgroups
    // Raw from here: `optional?.rawValue` would consume (and close) an Optional<FileDescriptor> at once.
    let oomFD = (try? cgroups.oomEventFD(path))?.release() ?? -1
    defer { if oomFD >= 0 { close(oomFD) } }
    // Init's pidfd ends the wait when the container stops; without an OOM notification fd the OOM
    // counter is read at least every second.
    let initPidfd: FileDescriptor
    do { initPidfd = try FileDescriptor.pidfd(record.pid) } catch {
      // Gone is the one quiet end; anything else (EMFILE, an old kernel) must not read as "stopped".
      if error.errno == ESRCH { return }
      throw RuntimeError("events: pidfd_open \(record.pid)", errno: error.errno)
    }
    let initFD = initPidfd.rawValue
    guard record.initIsAlive else { return }
    var lastOOM = cgroups.oomKillCount(path)
    var next = monotonicMillis()
    while true {
      let now = monotonicMillis()
      if now >= next {
        if let line = try? statsEvent(id: id) { emit(line) }
        next = now + intervalMillis
      }
      var fds = [
        pollfd(fd: initFD, events: Int16(POLLIN), revents: 0), pollfd(fd: oomFD, events: Int16(POLLIN), revents: 0),
      ]
      let cap: Int64 = oomFD >= 0 ? Int64(Int32.max) : 1000
      let n = poll(&fds, 2, Int32(max(0, min(next - monotonicMillis(), cap))))
      if n < 0 && errno == EINTR { continue }
      let oomReady = n > 0 && fds[1].revents != 0
      if oomReady {
        var counter: UInt64 = 0
        _ = read(oomFD, &counter, 8)
      }
      let count = cgroups.oomKillCount(path)
      if oomReady || count > lastOOM {
        lastOOM = count
        emit("{\"type\":\"oom\",\"id\":\(jsonQuote(id))}")
      }
      if n > 0 && fds[0].revents != 0 { return }
    }
  }
}
