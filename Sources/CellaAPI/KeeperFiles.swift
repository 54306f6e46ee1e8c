/// The files of a guest's directory that its keeper and the daemon share, by name relative to that
/// directory (the keeper's working directory, so a long state dir never overflows a socket path).
public enum KeeperFiles {
  public static let lock = "keeper.lock"
  public static let socket = "keeper.sock"
  public static let consoleSocket = "console.sock"
  public static let consoleLog = "console.log"
  public static let consoleLogOld = "console.log.1"
  public static let exit = "exit.json"
  public static let runtimeLog = "runtime.log"
  /// Where `run --pid-file` leaves init's pid; read once and removed.
  public static let initPID = "init.pid"
}
