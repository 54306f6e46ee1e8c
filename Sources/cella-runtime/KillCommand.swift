import ArgumentParser
import CellaRuntime
import CellaSys

struct KillCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal to a container.")

  @OptionGroup var global: GlobalOptions
  @Flag(name: [.customShort("a"), .long], help: "Signal every process of the container.") var all = false
  @Argument(help: "Container id.") var id: String
  @Argument(help: "Signal name or number (default TERM).") var signal: String = "TERM"

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      guard let number = Signals.parse(signal) else {
        throw RuntimeError("unknown signal \"\(signal)\" (use a name like TERM or a number like 15)")
      }
      try Lifecycle(store: global.store, log: global.logger).kill(id: id, signal: number, all: all)
    }
  }
}
