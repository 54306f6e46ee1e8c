import ArgumentParser
import CellaOCI
import CellaRuntime
import CellaSys
import Glibc

struct SpecCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "spec", abstract: "Write a default config.json into the bundle.")

  @OptionGroup var global: GlobalOptions
  @Option(name: [.customShort("b"), .long], help: "Bundle directory (default: current directory).")
  var bundle: String = "."

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      if global.rootless != nil || CommandLine.arguments.contains("--rootless") {
        throw RuntimeError("spec --rootless: rootless configs are not supported yet")
      }
      let path = absolutePath(bundle) + "/config.json"
      if FileIO.exists(path) { throw RuntimeError("\(path) exists; remove it first") }
      let bytes = DefaultSpec.encode(try DefaultConfig.make())
      let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
      if fd < 0 { throw RuntimeError("create \(path): \(SysError.describe(errno))") }
      defer { close(fd) }
      try RuntimeError.wrap("write \(path)") { try FileIO.writeAll(fd: fd, bytes, path: path) }
    }
  }
}
