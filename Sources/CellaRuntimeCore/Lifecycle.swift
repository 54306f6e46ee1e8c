import CellaOCI
import CellaSys

/// The OCI operations on existing containers (start, state, kill, delete, list), over one state store.
public struct Lifecycle: Sendable {
  public let store: StateStore
  public let log: Logger

  public init(store: StateStore, log: Logger) {
    self.store = store
    self.log = log
  }

  /// `state`: the OCI state of one container.
  public func state(id: String) throws(RuntimeError) -> ContainerState {
    try store.load(id).state()
  }

  /// `list`: the state of every container; entries whose state cannot be read are skipped.
  public func list() -> [ContainerState] {
    store.list().compactMap { try? store.load($0).state() }
  }
}
