import ArgumentParser
import CellaRuntime

struct PsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ps", abstract: "List the processes running inside a container.")

  @OptionGroup var global: GlobalOptions
  @Option(name: [.customShort("f"), .long], help: "table or json.") var format: String = "table"
  @Argument(help: "Container id.") var id: String
  @Argument(parsing: .captureForPassthrough, help: "Arguments for ps (default -ef).") var psArgs: [String] = []

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      let lifecycle = Lifecycle(store: global.store, log: global.logger)
      switch format {
      case "json": print("[" + (try lifecycle.processes(id: id)).map(String.init).joined(separator: ",") + "]")
      case "table":
        print(
          try lifecycle.psTable(id: id, psArgs: psArgs.first == "--" ? Array(psArgs.dropFirst()) : psArgs),
          terminator: "")
      default: throw RuntimeError("--format: unknown format \"\(format)\" (use table or json)")
      }
    }
  }
}
