import CShims
import CellaOCI
import CellaSys
import Glibc

extension Lifecycle {
  /// `kill`: sends a signal to init, or with `all` to every process of the container.
  public func kill(id: String, signal: Int32, all: Bool) throws(RuntimeError) {
    let record = try store.load(id)
    let status = record.status
    guard status.canKill else {
      throw RuntimeError("cannot kill container \"\(id)\": it is \(status.rawValue)", kind: .invalidState)
    }
    if all { signalAll(record, signal) }
    try signalInit(record, signal)
  }

  /// Signals init through a pidfd opened after checking the start time, so a reused pid is never hit.
  func signalInit(_ record: ContainerRecord, _ signal: Int32) throws(RuntimeError) {
    let pidfd: FileDescriptor
    do { pidfd = try FileDescriptor.pidfd(record.pid) } catch {
      if error.errno == ESRCH { return }
      throw RuntimeError(error.message, kind: error.kind)
    }
    guard record.initIsAlive else { return }
    if cella_pidfd_send_signal(pidfd.rawValue, signal, 0) != 0 && errno != ESRCH {
      throw RuntimeError("signal \(signal) to \(record.pid)", errno: errno)
    }
  }

  /// Signals every process of the container but init (init last is the caller's job). Each pid is
  /// pinned with a pidfd and signalled only if it is still the container's afterwards, so a pid reused
  /// in between is never hit.
  func signalAll(_ record: ContainerRecord, _ signal: Int32) {
    let handles = ExitWait.open(containerPIDs(record).filter { $0 != record.pid })
    defer { for h in handles { close(h.fd) } }
    let still = Set(containerPIDs(record))
    for h in handles where still.contains(h.pid) { _ = cella_pidfd_send_signal(h.fd, signal, 0) }
  }
}
