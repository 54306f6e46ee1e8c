import ArgumentParser
import CellaAPI

struct Enter: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "enter",
    abstract: "A login shell in a running guest, on a new pseudo-terminal.")
  @Argument var name: String

  func run() throws {
    throw try Exec.run(name, ExecRequest(command: [], tty: true, login: true))
  }
}
