import ArgumentParser
import CellaAPI
import CellaErrors

struct Console: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "console",
    abstract: "Attach to a guest's console (several clients may attach). Ctrl-a q detaches; Ctrl-a a sends Ctrl-a.")
  @Argument var name: String
  @Flag(help: "Print the console history first.")
  var showLog = false

  func run() throws {
    let stream = try CLI.client.upgrade(
      Endpoints.guest(name, "console") + "?history=\(showLog)")
    if Terminal.isTerminal(0) { CLI.fail("attached to the console of \(name); Ctrl-a q detaches") }
    let end = try StreamSession(forwardStdin: true, terminal: true, detachable: true).run(stream)
    if case .exit(let payload) = end, payload == Array("{}".utf8) {
      throw APIError(.invalidState, "guest \(name) is not running")
    }
  }
}
