/// The keeper's files, relative to its working directory (the guest's directory, so a long state dir
/// never overflows a socket path). CellaHost's `GuestPaths` names the same files for the daemon.
enum Files {
  static let lock = "keeper.lock"
  static let socket = "keeper.sock"
  static let consoleSocket = "console.sock"
  static let consoleLog = "console.log"
  static let consoleLogOld = "console.log.1"
  static let exit = "exit.json"
  static let runtimeLog = "runtime.log"
  /// Where `create --pid-file` leaves init's pid; read once and removed.
  static let initPID = "init.pid"
}
