import ArgumentParser
import CellaRuntime

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Create and start a container, and wait for it unless --detach.")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var container: ContainerOptions
  @Flag(name: [.customShort("d"), .long], help: "Do not wait for the container.") var detach = false
  @Flag(help: "Keep the container's state after it exits.") var keep = false
  @Argument(help: "Container id.") var id: String

  func run() throws {
    var code: Int32 = 0
    try global.perform { () throws(RuntimeError) in
      let creator = Creator(store: global.store, log: global.logger)
      code = try creator.run(
        try container.createOptions(id: id, systemd: global.systemdCgroup), detach: detach, keep: keep)
    }
    if code != 0 { throw ExitCode(code) }
  }
}
