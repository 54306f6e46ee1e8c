import ArgumentParser
import CellaAPI

struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Show a guest: status, effective config, usage, last exit.")
  @Argument var name: String
  @Option(help: "table (text) or json.")
  var format: OutputFormat = .table

  func run() throws {
    let info: GuestInfo = try CLI.client.get(Endpoints.guest(name))
    if format == .json { return try Output.json(info) }
    var lines: [(String, String)] = [
      ("Name", info.name), ("Kind", info.kind.rawValue), ("Status", info.status.rawValue),
      ("PID", info.pid.map(String.init) ?? "-"), ("Image", info.image ?? "-"),
      ("Profiles", (["default"] + info.profiles).joined(separator: ", ")),
      ("Command", info.command?.joined(separator: " ") ?? "(the image's)"), ("Created", info.created),
    ]
    if info.kind == .vm, info.pid != nil { lines[3].0 = "QEMU PID" }
    if let accel = info.accelerator { lines.append(("Accelerator", accel)) }
    if let started = info.started { lines.append(("Started", started)) }
    if let error = info.error { lines.append(("Error", error)) }
    if let exit = info.lastExit { lines.append(("Last exit", Output.describe(exit))) }
    lines.append(("Restarts", "\(info.restartCount)"))
    if let usage = info.usage {
      if let memory = usage.memory { lines.append(("Memory", "\(memory) bytes")) }
      if let cpu = usage.cpuSeconds { lines.append(("CPU", "\(cpu) s")) }
      if let pids = usage.pids { lines.append(("Processes", "\(pids)")) }
    }
    for nic in info.nics ?? [] {
      let host = nic.hostInterface.map { ", host end \($0)" } ?? ""
      lines.append(("NIC \(nic.index)", "\(nic.name) on \(nic.network): \(nic.ipv4 ?? "no address") \(nic.mac)\(host)"))
    }
    let width = lines.map(\.0.count).max() ?? 0
    for (key, value) in lines { print(key + ":" + String(repeating: " ", count: width - key.count + 1) + value) }
    print("Config:")
    for key in info.effectiveConfig.keys.sorted() {
      let own = info.config[key] != nil ? "" : "  (from a profile)"
      print("  " + key + ": " + ConfigText.quote(info.effectiveConfig[key]!) + own)
    }
  }
}
