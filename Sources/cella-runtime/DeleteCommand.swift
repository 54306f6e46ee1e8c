import ArgumentParser
import CellaRuntime

struct DeleteCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete", abstract: "Delete a stopped container (--force kills it first).")

  @OptionGroup var global: GlobalOptions
  @Flag(name: [.customShort("f"), .long], help: "Kill the container if it still runs.") var force = false
  @Argument(help: "Container id.") var id: String

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      try Lifecycle(store: global.store, log: global.logger).delete(id: id, force: force)
    }
  }
}
