/// How a guest's init ended, as its keeper recorded it in exit.json.
public struct KeeperExit: Sendable, Equatable {
  /// The exit code when init exited.
  public var code: Int?
  /// The signal number when a signal ended init.
  public var signal: Int?
  /// When the keeper saw it end (RFC 3339 UTC).
  public var time: String
  /// A VM's last QMP shutdown reason (`guest-shutdown`, `guest-reset`, `guest-panic`, `host-qmp-quit`, …).
  public var event: String?

  public init(code: Int? = nil, signal: Int? = nil, time: String, event: String? = nil) {
    self.event = event
    self.code = code
    self.signal = signal
    self.time = time
  }
}
