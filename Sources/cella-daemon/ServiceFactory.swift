import CellaAPI
import CellaErrors
import CellaHost
import Foundation

/// Builds what `cella daemon` serves: CellaHost's Manager over the state directory.
enum ServiceFactory {
  /// The manager for a state directory and socket, with its supervision started (re-adoption first).
  static let makeService: @Sendable (_ stateDir: String, _ socket: String) throws -> any CellaService = {
    stateDir, socket in
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let options = ManagerOptions.resolve(
      stateDir: stateDir, socket: socket, environment: ProcessInfo.processInfo.environment,
      executableDirectory: executable.deletingLastPathComponent().path)
    let manager = try Manager(options: options)
    manager.startSupervision()
    return manager
  }
}
