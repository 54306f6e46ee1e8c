import ArgumentParser
import CellaRuntime

struct PauseCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pause", abstract: "Freeze every process of a container.")

  @OptionGroup var global: GlobalOptions
  @Argument(help: "Container id.") var id: String

  func run() throws {
    try global.perform { () throws(RuntimeError) in try Lifecycle(store: global.store, log: global.logger).pause(id: id)
    }
  }
}

struct ResumeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "resume", abstract: "Thaw a paused container.")

  @OptionGroup var global: GlobalOptions
  @Argument(help: "Container id.") var id: String

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      try Lifecycle(store: global.store, log: global.logger).resume(id: id)
    }
  }
}
