/// An asynchronous QMP event, e.g. `{"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}`.
public struct QMPEvent: Sendable, Equatable {
  /// The event's name as QEMU spells it (`SHUTDOWN`, `POWERDOWN`, `RESET`, `STOP`, `RESUME`, `GUEST_PANICKED`…).
  public let name: String
  /// Its `data` member (an empty object when QEMU sent none).
  public let data: QMPValue

  public init(name: String, data: QMPValue = .object([:])) {
    self.name = name
    self.data = data
  }

  /// For `SHUTDOWN` and `RESET`: whether the guest asked for it (false when the host or QMP did).
  public var guest: Bool? { data["guest"]?.bool }

  /// For `SHUTDOWN` and `RESET`: QEMU's ShutdownCause (`guest-shutdown`, `guest-reset`, `guest-panic`,
  /// `host-qmp-quit`, `host-signal`…).
  public var reason: String? { data["reason"]?.string }

  /// For `GUEST_PANICKED`: QEMU's action (`pause`, `poweroff`, `run`).
  public var action: String? { data["action"]?.string }
}

/// The run states `query-status` reports (QEMU's RunState), with anything newer kept by name.
public enum QMPRunState: Sendable, Equatable {
  case running, paused, shutdown, prelaunch, inmigrate, postmigrate, finishMigrate, suspended, internalError
  case ioError, guestPanicked, watchdog, restoreVM, saveVM, debug, colo
  case other(String)

  /// The state QEMU names `name`.
  public init(_ name: String) {
    switch name {
    case "running": self = .running
    case "paused": self = .paused
    case "shutdown": self = .shutdown
    case "prelaunch": self = .prelaunch
    case "inmigrate": self = .inmigrate
    case "postmigrate": self = .postmigrate
    case "finish-migrate": self = .finishMigrate
    case "suspended": self = .suspended
    case "internal-error": self = .internalError
    case "io-error": self = .ioError
    case "guest-panicked": self = .guestPanicked
    case "watchdog": self = .watchdog
    case "restore-vm": self = .restoreVM
    case "save-vm": self = .saveVM
    case "debug": self = .debug
    case "colo": self = .colo
    default: self = .other(name)
    }
  }
}

/// What `query-status` returns.
public struct QMPStatus: Sendable, Equatable {
  /// QEMU's run state.
  public let state: QMPRunState
  /// Whether the vCPUs run.
  public let running: Bool

  public init(state: QMPRunState, running: Bool) {
    self.state = state
    self.running = running
  }
}
