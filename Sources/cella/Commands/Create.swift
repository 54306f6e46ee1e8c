import ArgumentParser
import CellaAPI

/// What `create` and `launch` share.
struct CreateOptions: ParsableArguments {
  @Argument(help: "The guest's name (a DNS label).")
  var name: String
  @Option(help: "The image its root filesystem comes from (a VM boots it with cella's kernel and initramfs).")
  var image: String?
  @Flag(help: "A VM with its own kernel (QEMU) instead of a container.")
  var vm = false
  @Option(help: "VM: boot this kernel directly (vm.kernel).")
  var kernel: String?
  @Option(help: "VM: the initramfs for --kernel (vm.initrd).")
  var initrd: String?
  @Option(help: "VM: the kernel command line for --kernel (vm.cmdline).")
  var cmdline: String?
  @Option(
    help:
      "VM: a raw or qcow2 disk image; the first is booted by the firmware without --image or --kernel (disk.N.source); repeatable."
  )
  var disk: [String] = []
  @Option(name: .customLong("profile"), help: "A profile to apply (in order, after default); repeatable.")
  var profiles: [String] = []
  @Option(name: .customShort("c"), help: "A config key, KEY=VALUE; repeatable.")
  var config: [String] = []
  @Argument(parsing: .postTerminator, help: "The guest's command (after --), instead of the image's.")
  var command: [String] = []

  func request(start: Bool) throws -> CreateGuestRequest {
    var keys = try Arguments.keyValues(config, what: "-c")
    let vmOnly = [
      ("--kernel", kernel != nil), ("--initrd", initrd != nil), ("--cmdline", cmdline != nil),
      ("--disk", !disk.isEmpty),
    ]
    if !vm, let (flag, _) = vmOnly.first(where: { $0.1 }) {
      throw APIError(.invalidArgument, "\(flag): only for VMs (add --vm)")
    }
    if !vm && image == nil { throw APIError(.invalidArgument, "--image: a container needs an image") }
    // The flags are spellings of config keys: the API knows only the keys.
    for (key, value) in [("vm.kernel", kernel), ("vm.initrd", initrd), ("vm.cmdline", cmdline)] {
      guard let value else { continue }
      if keys[key] != nil { throw APIError(.invalidArgument, "-c \(key) and its flag given together") }
      keys[key] = key == "vm.cmdline" ? value : Arguments.absolute(value)
    }
    for (i, path) in disk.enumerated() {
      if keys["disk.\(i).source"] != nil {
        throw APIError(.invalidArgument, "-c disk.\(i).source and --disk given together")
      }
      keys["disk.\(i).source"] = Arguments.absolute(path)
    }
    return CreateGuestRequest(
      name: name, image: image, kind: vm ? .vm : nil, profiles: profiles.isEmpty ? nil : profiles,
      config: keys.isEmpty ? nil : keys,
      command: command.isEmpty ? nil : command, start: start ? true : nil)
  }
}

struct Create: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create", abstract: "Create a guest (stopped).")
  @OptionGroup var options: CreateOptions

  func run() throws {
    let _: GuestInfo = try CLI.client.post(Endpoints.guests, options.request(start: false))
  }
}
