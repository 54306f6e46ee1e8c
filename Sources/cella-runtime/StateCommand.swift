import ArgumentParser
import CellaOCI
import CellaRuntime
import FoundationEssentials

struct StateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "state", abstract: "Print a container's state as JSON.")

  @OptionGroup var global: GlobalOptions
  @Argument(help: "Container id.") var id: String

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      let state = try Lifecycle(store: global.store, log: global.logger).state(id: id)
      print(stateDocument(state))
    }
  }
}

/// Pretty JSON as runc prints it (two-space indent).
func prettyJSON<T: Encodable>(_ value: T) throws(RuntimeError) -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
    throw RuntimeError("encode JSON: \(error)")
  }
}
