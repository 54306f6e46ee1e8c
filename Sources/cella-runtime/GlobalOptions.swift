import ArgumentParser
import CellaRuntime

/// runc's global flags; accepted before or after the verb.
struct GlobalOptions: ParsableArguments {
  @Option(help: "Root directory for container state.")
  var root: String = "/run/cella"

  @Option(help: "Log file (default: stderr).")
  var log: String?

  @Option(name: .customLong("log-format"), help: "Log format: text or json.")
  var logFormat: String = "text"

  @Flag(help: "Enable debug logging.")
  var debug = false

  @Flag(name: .customLong("systemd-cgroup"), help: "cgroupsPath is slice:prefix:name (mapped onto cgroupfs).")
  var systemdCgroup = false

  @Option(help: .hidden)
  var criu: String?

  @Option(name: .customLong("rootless"), help: .hidden, transform: { $0 })
  var rootless: String?

  func validate() throws {
    if logFormat != "text" && logFormat != "json" {
      throw ValidationError("--log-format: unknown format \"\(logFormat)\" (use text or json)")
    }
  }

  var logger: Logger {
    Logger(path: log, format: logFormat == "json" ? .json : .text, debug: debug)
  }

  var store: StateStore { StateStore(root: root) }

  /// Runs a verb body, turning a RuntimeError into one error line and its exit code.
  func perform(_ body: () throws(RuntimeError) -> Void) throws {
    do {
      try body()
    } catch let error as RuntimeError {
      reportError(error.message, logger: log == nil ? nil : logger)
      throw ExitCode(error.exitCode == 0 ? 1 : error.exitCode)
    }
  }
}
