import ArgumentParser
import CellaRuntime
import Glibc

struct EventsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "events", abstract: "Print container stats and OOM events as JSON lines.")

  @OptionGroup var global: GlobalOptions
  @Flag(help: "Print stats once and exit.") var stats = false
  @Option(help: "Stats interval (e.g. 5s, 500ms).") var interval: String = "5s"
  @Argument(help: "Container id.") var id: String

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      let lifecycle = Lifecycle(store: global.store, log: global.logger)
      if stats {
        print(try lifecycle.statsEvent(id: id))
        return
      }
      let seconds: Double
      if interval.hasSuffix("ms"), let v = Double(interval.dropLast(2)) {
        seconds = v / 1000
      } else if interval.hasSuffix("s"), let v = Double(interval.dropLast()) {
        seconds = v
      } else if let v = Double(interval) {
        seconds = v
      } else {
        throw RuntimeError("--interval: \"\(interval)\" is not a duration (use 5s or 500ms)")
      }
      guard seconds > 0 else { throw RuntimeError("--interval: must be positive") }
      try lifecycle.events(id: id, interval: seconds) { line in
        // Unbuffered: a reader (containerd) must see each event as it happens.
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
      }
    }
  }
}
