import ArgumentParser
import CellaRuntime

struct StartCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "start", abstract: "Run the user process of a created container.")

  @OptionGroup var global: GlobalOptions
  @Argument(help: "Container id.") var id: String

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      try Lifecycle(store: global.store, log: global.logger).start(id: id)
    }
  }
}
