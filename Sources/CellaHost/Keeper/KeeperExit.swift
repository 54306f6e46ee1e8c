/// How a guest's init ended, as its keeper recorded it in exit.json.
public struct KeeperExit: Sendable, Equatable {
  /// The exit code when init exited.
  public var code: Int?
  /// The signal number when a signal ended init.
  public var signal: Int?
  /// When the keeper saw it end (RFC 3339 UTC).
  public var time: String

  public init(code: Int? = nil, signal: Int? = nil, time: String) {
    self.code = code
    self.signal = signal
    self.time = time
  }
}
