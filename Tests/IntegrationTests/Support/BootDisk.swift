import CellaSys
import CellaVM
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// A disk a VM boots by firmware (SeaBIOS), built offline for VM tests from image files only: no loop
/// device, no mount, so a killed build leaves nothing but files in its directory.
///
/// Layout: an MBR with syslinux's boot code; partition 1 (active, FAT16) holds syslinux, the host's
/// Debian kernel and a busybox initramfs; partition 2 is 1 MiB of raw sectors for the marker. The
/// initramfs's init loads the virtio, e1000, IDE/AHCI and power-button modules, configures eth0 (DHCP,
/// taking its router and DNS servers, or a fixed address), serves `httpBody` with busybox httpd on
/// port 80, powers off on ACPI's power button (`system_powerdown`), optionally echoes lines on ttyS1
/// and checks a marker, runs the test's script, then prints `readyLine` on ttyS0.
struct BootDisk {
  enum Format: String { case raw, qcow2 }

  /// How the guest's eth0 gets its address.
  enum Network: Equatable {
    /// No NIC set up (no network lines on the console).
    case none
    /// busybox udhcpc, up to 20 one-second tries.
    case dhcp
    /// `address` ("A/prefix") and an optional default route.
    case fixed(address: String, gateway: String?)
  }

  struct Options {
    var network: Network = .dhcp
    /// What `GET /` answers.
    var httpBody = "cella-fixture"
    /// Echo every line read on ttyS1 back on ttyS1 as `echoPrefix` + the line.
    var serialEcho = false
    /// Print `markerLine present|absent` for partition 2, then mark it (so a kept disk says present next boot).
    var marker = false
    var format: Format = .raw
    /// Shell lines run last, before the ready line (their output goes to the console): what a test
    /// wants the guest to do itself, such as reaching a container.
    var script = ""
  }

  /// The console line the init prints when everything is up: `CELLA-FIXTURE-READY <A/prefix or ->`.
  static let readyLine = "CELLA-FIXTURE-READY"
  /// The console line before the ready line: `CELLA-FIXTURE-UPTIME <seconds since the kernel started>`
  /// (the rest of a boot's time is the firmware's and the boot loader's).
  static let uptimeLine = "CELLA-FIXTURE-UPTIME"
  /// The console line of the marker check: `CELLA-FIXTURE-MARKER present` or `… absent`.
  static let markerLine = "CELLA-FIXTURE-MARKER"
  /// What the init puts before each line it echoes on ttyS1.
  static let echoPrefix = "echo: "
  /// The modules the init loads (with their dependencies from modules.dep): disks and NICs of q35, pc
  /// and virtio, and the ACPI power button with the event device busybox acpid reads.
  static let modules = [
    "virtio_pci", "virtio_blk", "virtio_net", "e1000", "ata_piix", "ahci", "sd_mod", "button", "evdev",
  ]

  let path: String
  let format: Format
  /// How long `build` took.
  let seconds: Double

  /// Builds `<dir>/<name>.raw` or `.qcow2` (written under a temporary name and renamed). Skips the test
  /// when a tool, the kernel or its modules are missing.
  static func build(in dir: String, name: String = "boot", _ options: Options = Options()) throws -> BootDisk {
    let started = Date()
    let tools = try Tools()
    let kernel = try HostKernel()
    let work = dir + "/\(name)-build"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }

    let initrd = try initramfs(kernel: kernel, busybox: tools.busybox, options: options)
    let kernelSize = try FileManager.default.attributesOfItem(atPath: kernel.image)[.size] as? Int ?? 0
    let mib = 1 << 20
    // Room for the files, syslinux and FAT's tables; FAT16 needs some 16 MiB at least.
    let fatMiB = max(16, (kernelSize + initrd.count + 4 * mib + mib - 1) / mib)
    let fatStart = 2048
    let fatSectors = fatMiB * 2048
    let markerStart = fatStart + fatSectors
    let totalSectors = markerStart + 2048

    let raw = work + "/disk.raw"
    let disk = try FileHandle(forWritingTo: createEmpty(raw))
    try disk.truncate(atOffset: UInt64(totalSectors * 512))
    try disk.seek(toOffset: 0)
    try disk.write(contentsOf: mbr(tools.mbr, [(0x80, 0x0e, fatStart, fatSectors), (0x00, 0xda, markerStart, 2048)]))
    try disk.close()

    let image = "\(raw)@@\(fatStart * 512)"
    try FileManager.default.createFile(atPath: work + "/initrd", contents: Data(initrd))
    try Data(syslinuxConfig.utf8).write(to: URL(fileURLWithPath: work + "/syslinux.cfg"))
    try run(work, tools.mkfsVfat, ["-F", "16", "-n", "CELLABOOT", "--offset=\(fatStart)", raw, "\(fatSectors / 2)"])
    for (file, target) in [
      (kernel.image, "vmlinuz"), (work + "/initrd", "initrd"), (work + "/syslinux.cfg", "syslinux.cfg"),
    ] {
      try run(work, tools.mcopy, ["-i", image, file, "::" + target])
    }
    try run(work, tools.syslinux, ["--offset", "\(fatStart * 512)", "--install", raw])

    let output = "\(dir)/\(name).\(options.format.rawValue)"
    switch options.format {
    case .raw:
      guard rename(raw, output) == 0 else { throw HarnessError("rename \(raw): \(String(cString: strerror(errno)))") }
    case .qcow2:
      let temporary = work + "/disk.qcow2"
      try run(work, tools.qemuImg, ["convert", "-f", "raw", "-O", "qcow2", raw, temporary])
      guard rename(temporary, output) == 0 else {
        throw HarnessError("rename \(temporary): \(String(cString: strerror(errno)))")
      }
    }
    return BootDisk(path: output, format: options.format, seconds: Date().timeIntervalSince(started))
  }

  /// The fixture's initramfs alone, written to `<dir>/<name>.cpio`, for a VM that boots the host's kernel
  /// directly (`--kernel`, `--initrd`) and should behave like the disk.
  static func initramfsFile(in dir: String, name: String = "fixture", _ options: Options = Options()) throws -> String {
    let tools = try Tools()
    let path = "\(dir)/\(name).cpio"
    let bytes = try initramfs(kernel: try HostKernel(), busybox: tools.busybox, options: options)
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o644])
    else { throw HarnessError("write \(path)") }
    return path
  }

  /// syslinux boots the one entry at once; `panic=-1` turns a panic into a reboot, which `-no-reboot` ends.
  private static let syslinuxConfig = """
    DEFAULT linux
    PROMPT 0
    TIMEOUT 0
    LABEL linux
      KERNEL /vmlinuz
      INITRD /initrd
      APPEND console=ttyS0 quiet panic=-1

    """

  /// Sector 0: syslinux's boot code (it boots the active partition), four partition entries
  /// (status, type, first sector, sectors; CHS fields say "use LBA") and the boot signature.
  private static func mbr(_ bootCode: String, _ partitions: [(UInt8, UInt8, Int, Int)]) throws -> Data {
    var sector = [UInt8](repeating: 0, count: 512)
    let code = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bootCode)).prefix(440))
    sector.replaceSubrange(0..<code.count, with: code)
    for (i, p) in partitions.enumerated() {
      let chs: [UInt8] = [0xfe, 0xff, 0xff]
      var entry: [UInt8] = [p.0] + chs + [p.1] + chs
      for value in [UInt32(p.2), UInt32(p.3)] { entry += withUnsafeBytes(of: value.littleEndian, Array.init) }
      sector.replaceSubrange((446 + 16 * i)..<(462 + 16 * i), with: entry)
    }
    sector[510] = 0x55
    sector[511] = 0xaa
    return Data(sector)
  }

  /// The initramfs: static busybox, the modules with `/cella/modules` (load order), the init script.
  private static func initramfs(kernel: HostKernel, busybox: String, options: Options) throws -> [UInt8] {
    var cpio = CpioWriter()
    for d in ["bin", "dev", "proc", "sys", "www", "etc", "cella", "lib", "lib/modules"] { try cpio.directory(d) }
    try cpio.characterDevice("dev/console", major: 5, minor: 1)
    try cpio.file("bin/busybox", mode: 0o755, data: try FileIO.read(busybox, limit: 64 << 20))
    let modules = try kernel.loadOrder(modules)
    for m in modules {
      try cpio.file("lib/modules/" + m.name, data: try FileIO.read(kernel.modules + "/" + m.path, limit: 64 << 20))
    }
    try cpio.file("cella/modules", data: Array(modules.map { $0.name + "\n" }.joined().utf8))
    try cpio.file("www/index.html", data: Array(options.httpBody.utf8))
    try cpio.file("init", mode: 0o755, data: Array(initScript(options).utf8))
    return cpio.finish()
  }

  /// The init (busybox sh as PID 1). It never exits: PID 1 ending would panic the kernel.
  private static func initScript(_ options: Options) -> String {
    var script = """
      #!/bin/busybox sh
      /bin/busybox --install -s /bin
      export PATH=/bin
      mount -t proc proc /proc
      mount -t sysfs sys /sys
      mount -t devtmpfs dev /dev
      while read -r m; do insmod /lib/modules/$m; done </cella/modules
      mkdir -p /etc/acpi/PWRF
      printf '#!/bin/sh\\nsync\\npoweroff -f\\n' >/etc/acpi/PWRF/00000080
      chmod 755 /etc/acpi/PWRF/00000080
      mkdir -p /var/log /var/run
      acpid -c /etc/acpi
      ip link set lo up
      address=-

      """
    if options.network != .none {
      script += """
        i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
        ip link set eth0 up

        """
    }
    switch options.network {
    case .none: break
    case .dhcp:
      script += """
        printf '#!/bin/sh\\ncase "$1" in bound|renew) ip addr add $ip/$mask dev $interface; [ -n "$router" ] && ip route add default via ${router%% *}; for s in $dns; do echo nameserver $s; done >/etc/resolv.conf;; esac\\nexit 0\\n' >/etc/udhcpc.sh
        chmod 755 /etc/udhcpc.sh
        udhcpc -i eth0 -s /etc/udhcpc.sh -q -n -t 20 -T 1

        """
    case .fixed(let address, let gateway):
      script += "ip addr add \(address) dev eth0\n"
      if let gateway { script += "ip route add default via \(gateway)\n" }
    }
    if options.network != .none {
      script += """
        address=$(ip -o -4 addr show dev eth0 | awk '{print $4}')
        httpd -p 80 -h /www

        """
    }
    if options.serialEcho {
      script += """
        (stty raw -echo; while IFS= read -r line; do echo "\(echoPrefix)$line"; done) </dev/ttyS1 >/dev/ttyS1 2>&1 &

        """
    }
    if options.marker {
      // The partition appears once its disk driver's probe (asynchronous for SCSI) finished.
      script += """
        part=; i=0
        while [ -z "$part" ] && [ $i -lt 50 ]; do
          for d in /dev/vda2 /dev/sda2; do [ -b $d ] && part=$d; done
          [ -z "$part" ] && sleep 0.1; i=$((i+1))
        done
        if [ -z "$part" ]; then echo "\(markerLine) no-disk"
        elif [ "$(dd if=$part bs=16 count=1 2>/dev/null)" = CELLA-MARKER-SET ]; then echo "\(markerLine) present"
        else echo "\(markerLine) absent"; printf CELLA-MARKER-SET | dd of=$part conv=fsync 2>/dev/null; sync
        fi

        """
    }
    script += options.script + "\n"
    script += """
      echo "\(uptimeLine) $(cut -d' ' -f1 /proc/uptime)"
      echo "\(readyLine) $address"
      while :; do sleep 3600; done

      """
    return script
  }

  /// Runs a build tool, bounded; a failure is the tool's own words.
  private static func run(_ work: String, _ tool: String, _ arguments: [String]) throws {
    let r = Spawner.run(tool, arguments, outputDirectory: work, timeout: 60)
    guard r.status == 0 else { throw HarnessError("\(r)") }
  }

  private static func createEmpty(_ path: String) throws -> URL {
    guard FileManager.default.createFile(atPath: path, contents: nil) else { throw HarnessError("create \(path)") }
    return URL(fileURLWithPath: path)
  }

  /// The host tools the build uses; a missing one skips the test with the package to install.
  private struct Tools {
    let mkfsVfat: String
    let mcopy: String
    let syslinux: String
    let qemuImg: String
    let busybox: String
    /// syslinux's MBR boot code.
    let mbr = "/usr/lib/syslinux/mbr/mbr.bin"

    init() throws {
      func tool(_ name: String, _ package: String) throws -> String {
        guard let path = Spawn.findTool(name) else {
          throw SuiteConfiguration.skip("no \(name) (apt-get install \(package))")
        }
        return path
      }
      mkfsVfat = try tool("mkfs.vfat", "dosfstools")
      mcopy = try tool("mcopy", "mtools")
      syslinux = try tool("syslinux", "syslinux")
      qemuImg = try tool("qemu-img", "qemu-utils")
      busybox = try tool("busybox", "busybox-static")
      guard FileManager.default.fileExists(atPath: mbr) else {
        throw SuiteConfiguration.skip("no \(mbr) (apt-get install syslinux-common)")
      }
    }
  }
}

/// The newest Debian kernel in /boot and its modules.
struct HostKernel {
  /// /boot/vmlinuz-VERSION.
  let image: String
  /// /lib/modules/VERSION.
  let modules: String

  init() throws {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []).filter {
      $0.hasPrefix("vmlinuz-") && $0.hasSuffix("-amd64")
    }
    guard let newest = names.sorted().last else {
      throw SuiteConfiguration.skip("no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)")
    }
    image = "/boot/" + newest
    modules = "/lib/modules/" + newest.dropFirst("vmlinuz-".count)
  }

  /// `wanted` with their dependencies from modules.dep, each after what it needs: (file name, path
  /// relative to `modules`).
  func loadOrder(_ wanted: [String]) throws -> [(name: String, path: String)] {
    guard let text = try? String(contentsOfFile: modules + "/modules.dep", encoding: .utf8) else {
      throw SuiteConfiguration.skip("no \(modules)/modules.dep (the kernel's package is incomplete)")
    }
    var deps: [String: [String]] = [:]
    var paths: [String: String] = [:]
    for line in text.split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let path = String(line[..<colon])
      let name = Self.moduleName(path)
      paths[name] = path
      deps[name] = line[line.index(after: colon)...].split(separator: " ").map { Self.moduleName(String($0)) }
    }
    var order: [(name: String, path: String)] = []
    var seen = Set<String>()
    func visit(_ name: String) throws {
      guard seen.insert(name).inserted else { return }
      guard let path = paths[name] else {
        // Built into the kernel: nothing to load.
        if (try? String(contentsOfFile: modules + "/modules.builtin", encoding: .utf8))?.contains("/\(name).ko\n")
          == true
        {
          return
        }
        throw HarnessError("\(modules)/modules.dep: no module \(name)")
      }
      guard path.hasSuffix(".ko") else {
        throw SuiteConfiguration.skip("\(path): compressed modules (busybox insmod reads .ko)")
      }
      for dep in deps[name] ?? [] { try visit(dep) }
      order.append((String(path.split(separator: "/").last!), path))
    }
    for name in wanted { try visit(name) }
    return order
  }

  /// `kernel/drivers/net/virtio_net.ko` → `virtio_net` (modules.dep spells names with `_`).
  private static func moduleName(_ path: String) -> String {
    let file = path.split(separator: "/").last.map(String.init) ?? path
    return String(file.prefix { $0 != "." }).replacingOccurrences(of: "-", with: "_")
  }
}
