import CellaAPI
import CellaErrors

/// Builds what `cella daemon` serves (CellaHost's Manager once it is linked in).
enum ServiceFactory {
  /// The service for a state directory and socket.
  static let makeService: @Sendable (_ stateDir: String, _ socket: String) throws -> any CellaService = { _, _ in
    throw APIError(.unsupported, "cella daemon: this build has no guest manager linked in yet")
  }
}
