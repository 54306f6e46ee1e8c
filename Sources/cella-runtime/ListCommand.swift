import ArgumentParser
import CellaOCI
import CellaRuntime

struct ListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "list", abstract: "List containers.")

  @OptionGroup var global: GlobalOptions
  @Option(name: [.customShort("f"), .long], help: "table or json.") var format: String = "table"
  @Flag(name: [.customShort("q"), .long], help: "Print only ids.") var quiet = false

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      let states = Lifecycle(store: global.store, log: global.logger).list()
      if quiet {
        states.forEach { print($0.id) }
        return
      }
      switch format {
      case "json": print(stateList(states))
      case "table": print(table(states), terminator: "")
      default: throw RuntimeError("--format: unknown format \"\(format)\" (use table or json)")
      }
    }
  }

  private func table(_ states: [ContainerState]) -> String {
    let rows =
      [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
      + states.map { [$0.id, String($0.pid), $0.status, $0.bundle, $0.created, $0.owner] }
    var widths = [Int](repeating: 0, count: 6)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    return rows.map { row in
      row.enumerated().map { i, cell in
        i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 3)
      }.joined() + "\n"
    }.joined()
  }
}
