import ArgumentParser
import CellaAPI

/// `--timeout` and `--force` of `stop` and `restart`.
struct StopOptions: ParsableArguments {
  @Option(help: "Seconds between the stop signal and SIGKILL (default: the guest's boot.stop.timeout).")
  var timeout: Int?
  @Flag(help: "SIGKILL at once.")
  var force = false

  var request: StopRequest { StopRequest(timeout: timeout, force: force ? true : nil) }
}

struct Stop: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stop", abstract: "Stop a guest; returns once it has stopped.")
  @Argument var name: String
  @OptionGroup var options: StopOptions

  func run() throws {
    let _: GuestInfo = try CLI.client.post(Endpoints.guest(name, "stop"), options.request)
  }
}
