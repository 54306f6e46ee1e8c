extension DaemonServer {
  /// Refuses when another daemon answers on `socketPath`, before the caller touches any guest.
  public static func refuseIfRunning(_ socketPath: String) throws {
    try SocketFile.prepare(socketPath)
  }
}
