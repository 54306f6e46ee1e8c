import XCTest

@testable import CellaVM

final class QEMUCommandTests: XCTestCase {
  static let sandbox = ["-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"]
  static let common = ["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"] + sandbox

  static func microvm() -> VMDescription {
    VMDescription(
      machine: .microvm, accelerator: .tcg, memoryMiB: 256,
      boot: .kernel(path: "/vm/vmlinux", initrd: "/vm/initramfs.cpio", cmdline: "console=ttyS0  quiet"),
      nics: [VMNIC(tapFD: 5, mac: "52:54:00:AB:cd:01")],
      serials: [.consoleSocket(path: "/run/cella/g/console.sock")], qmpSocket: "/run/cella/g/qmp.sock")
  }

  static func robot() -> VMDescription {
    VMDescription(
      machine: .q35, accelerator: .kvm, cpu: "qemu64", vcpus: 2, memoryMiB: 512, boot: .firmware,
      disks: [VMDisk(path: "/var/lib/cella/bmek/disk0.qcow2", format: .qcow2, volatile: true)],
      nics: [VMNIC(tapFD: 7, mac: "52:54:00:12:34:09")], serials: [.consoleFD(8), .hostFD(9)], clock: .localtime,
      qmpSocket: "/run/cella/bmek/qmp.sock")
  }

  func testAMicrovmBootsItsKernelDirectlyWithTheTSCFrequencyAndRTCOnVirtioMMIODevices() throws {
    let argv = try QEMUCommand.argv(Self.microvm(), tscKHz: 2_399_998)
    XCTAssertEqual(
      argv,
      ["qemu-system-x86_64", "-machine", "microvm,accel=tcg,rtc=on", "-smp", "1", "-m", "256M"] + Self.common + [
        "-rtc", "base=utc",
        "-chardev", "socket,id=qmp,path=/run/cella/g/qmp.sock,server=on,wait=off", "-mon", "chardev=qmp,mode=control",
        "-action", "panic=shutdown", "-device", "pvpanic",
        "-kernel", "/vm/vmlinux", "-initrd", "/vm/initramfs.cpio",
        "-append", "console=ttyS0 quiet tsc_early_khz=2399998",
        "-netdev", "tap,id=net0,fd=5", "-device", "virtio-net-device,netdev=net0,mac=52:54:00:ab:cd:01",
        "-chardev", "socket,id=serial0,path=/run/cella/g/console.sock", "-serial", "chardev:serial0",
      ])
    XCTAssertEqual(QEMUCommand.inheritedFDs(Self.microvm()), [5])
  }

  func testAgentSocketsBecomeNamedPortsOfOneVirtioSerialDeviceOfTheMachinesBus() throws {
    var vm = Self.microvm()
    vm.agentSockets = ["/run/cella/g/agent-1.sock", "/run/cella/g/a,b/agent-2.sock"]
    let argv = try QEMUCommand.argv(vm, tscKHz: 1000)
    let start = try XCTUnwrap(argv.firstIndex(of: "virtio-serial-device,id=agent"))
    XCTAssertEqual(
      Array(argv[(start - 1)...(start + 8)]),
      [
        "-device", "virtio-serial-device,id=agent",
        "-chardev", "socket,id=agent1,path=/run/cella/g/agent-1.sock,server=on,wait=off",
        "-device", "virtserialport,bus=agent.0,nr=1,chardev=agent1,name=org.cella.agent.1",
        "-chardev", "socket,id=agent2,path=/run/cella/g/a,,b/agent-2.sock,server=on,wait=off",
        "-device", "virtserialport,bus=agent.0,nr=2,chardev=agent2,name=org.cella.agent.2",
      ])
    var q35 = Self.robot()
    q35.agentSockets = ["/run/cella/bmek/agent-1.sock"]
    XCTAssertTrue(try QEMUCommand.argv(q35, tscKHz: nil).contains("virtio-serial-pci,id=agent"))
    XCTAssertFalse(try QEMUCommand.argv(Self.microvm(), tscKHz: 1000).contains { $0.contains("virtio-serial") })
  }

  func testAQ35BootsFirmwareFromAVolatileDiskWithAHostSerialPortOnVirtioPCI() throws {
    let argv = try QEMUCommand.argv(Self.robot(), tscKHz: nil)
    XCTAssertEqual(
      argv,
      ["qemu-system-x86_64", "-machine", "q35,accel=kvm", "-cpu", "qemu64", "-smp", "2", "-m", "512M"] + Self.common
        + [
          "-rtc", "base=localtime",
          "-chardev", "socket,id=qmp,path=/run/cella/bmek/qmp.sock,server=on,wait=off",
          "-mon", "chardev=qmp,mode=control",
          "-action", "panic=shutdown", "-device", "pvpanic",
          "-drive", "if=none,id=disk0,file=/var/lib/cella/bmek/disk0.qcow2,format=qcow2,snapshot=on",
          "-device", "virtio-blk-pci,drive=disk0,bootindex=0",
          "-netdev", "tap,id=net0,fd=7", "-device", "virtio-net-pci,netdev=net0,mac=52:54:00:12:34:09,romfile=",
          "-chardev", "socket,id=serial0,fd=8", "-serial", "chardev:serial0",
          "-add-fd", "fd=9,set=9", "-chardev", "serial,id=serial1,path=/dev/fdset/9", "-serial", "chardev:serial1",
        ])
    XCTAssertEqual(QEMUCommand.inheritedFDs(Self.robot()), [7, 8, 9])
  }

  func testAReadOnlyDiskAndAnUnconnectedSerialPortKeepTheirPlaces() throws {
    var vm = Self.robot()
    vm.disks = [
      VMDisk(path: "/d/boot.raw", format: .raw), VMDisk(path: "/d/data.qcow2", format: .qcow2, readOnly: true),
    ]
    vm.serials = [.none, .hostFD(9)]
    let argv = try QEMUCommand.argv(vm, tscKHz: nil)
    XCTAssertTrue(argv.contains("if=none,id=disk1,file=/d/data.qcow2,format=qcow2,readonly=on"))
    XCTAssertTrue(argv.contains("virtio-blk-pci,drive=disk1"))
    XCTAssertTrue(argv.contains("virtio-blk-pci,drive=disk0,bootindex=0"))
    let serials = argv.indices.filter { argv[$0] == "-serial" }.map { argv[$0 + 1] }
    XCTAssertEqual(serials, ["null", "chardev:serial1"])
  }

  func testAKernelCmdlineThatSetsTheTSCFrequencyItselfKeepsIt() throws {
    var vm = Self.microvm()
    vm.boot = .kernel(path: "/vm/vmlinux", initrd: nil, cmdline: "tsc_early_khz=1000")
    let argv = try QEMUCommand.argv(vm, tscKHz: nil)
    XCTAssertEqual(argv[argv.firstIndex(of: "-append")! + 1], "tsc_early_khz=1000")
    XCTAssertFalse(argv.contains("-initrd"))
  }

  func testOnlyMicrovmUnderTCGGetsTheTSCFrequency() throws {
    var vm = Self.microvm()
    vm.accelerator = .kvm
    XCTAssertEqual(
      try QEMUCommand.argv(vm, tscKHz: 5)[QEMUCommand.argv(vm, tscKHz: 5).firstIndex(of: "-append")! + 1],
      "console=ttyS0 quiet")
    vm.accelerator = .tcg
    vm.machine = .q35
    let argv = try QEMUCommand.argv(vm, tscKHz: 5)
    XCTAssertEqual(argv[argv.firstIndex(of: "-append")! + 1], "console=ttyS0 quiet")
    XCTAssertEqual(argv[argv.firstIndex(of: "-machine")! + 1], "q35,accel=tcg")
  }

  // MARK: option strings

  func testACommaInAValueIsDoubledSoItCannotStartAnotherOption() {
    XCTAssertEqual(QEMUOption.escape("a,b"), "a,,b")
    XCTAssertEqual(QEMUOption.escape("x,file=/etc/shadow"), "x,,file=/etc/shadow")
    XCTAssertEqual(QEMUOption.escape(",,"), ",,,,")
    XCTAssertEqual(QEMUOption.escape("/plain/path"), "/plain/path")
  }

  func testHostilePathsStayInsideTheirOwnKey() throws {
    var vm = Self.robot()
    vm.disks = [VMDisk(path: "/d/x,file=/etc/shadow", format: .raw)]
    vm.qmpSocket = "/run/a,b"
    vm.serials = [.consoleSocket(path: "/run/c,server=on,wait=off")]
    let argv = try QEMUCommand.argv(vm, tscKHz: nil)
    XCTAssertTrue(argv.contains("if=none,id=disk0,file=/d/x,,file=/etc/shadow,format=raw"))
    XCTAssertTrue(argv.contains("socket,id=qmp,path=/run/a,,b,server=on,wait=off"))
    XCTAssertTrue(argv.contains("socket,id=serial0,path=/run/c,,server=on,,wait=off"))
  }

  // MARK: bad input

  func testEveryBadInputIsOneLineNamingItsField() {
    let cases: [(String, (inout VMDescription) -> Void, String)] = [
      ("memory 0", { $0.memoryMiB = 0 }, "limits.memory: 0 MiB is outside"),
      ("memory absurd", { $0.memoryMiB = 1 << 30 }, "limits.memory: 1073741824 MiB is outside"),
      ("vcpus 0", { $0.vcpus = 0 }, "limits.cpu: 0 vCPUs"),
      ("vcpus absurd", { $0.vcpus = 4096 }, "limits.cpu: 4096 vCPUs"),
      ("cpu with a space", { $0.cpu = "host +vmx" }, "vm.cpu: \"host +vmx\" is not a QEMU CPU model"),
      ("empty cpu", { $0.cpu = "" }, "vm.cpu: \"\" is not"),
      ("cmdline NUL", { $0.boot = .kernel(path: "/k", initrd: nil, cmdline: "a\0b") }, "cmdline: contains a NUL"),
      ("cmdline newline", { $0.boot = .kernel(path: "/k", initrd: nil, cmdline: "a\ninit=/x") }, "cmdline: contains"),
      (
        "cmdline too long",
        { $0.boot = .kernel(path: "/k", initrd: nil, cmdline: String(repeating: "a", count: 2048)) },
        "cmdline: 2067 bytes, longer than the kernel's 2047"
      ),
      (
        "relative kernel", { $0.boot = .kernel(path: "vmlinux", initrd: nil, cmdline: "") },
        "kernel: \"vmlinux\" is not"
      ),
      (
        "protocol initrd", { $0.boot = .kernel(path: "/k", initrd: "json:{}", cmdline: "") },
        "initrd: \"json:{}\" is not an absolute path"
      ),
      ("kernel NUL", { $0.boot = .kernel(path: "/k\0/etc", initrd: nil, cmdline: "") }, "kernel: path contains a NUL"),
      (
        "microvm firmware", { $0.boot = .firmware },
        "vm.machine: microvm has no firmware boot; boot a kernel directly or use q35 or pc for a disk"
      ),
      ("multicast MAC", { $0.nics[0].mac = "01:00:5e:00:00:01" }, "nic.0.hwaddr: 01:00:5e:00:00:01 is a multicast"),
      ("broadcast MAC", { $0.nics[0].mac = "ff:ff:ff:ff:ff:ff" }, "nic.0.hwaddr: ff:ff:ff:ff:ff:ff is a multicast"),
      ("zero MAC", { $0.nics[0].mac = "00:00:00:00:00:00" }, "nic.0.hwaddr: 00:00:00:00:00:00 is not a usable"),
      ("short MAC", { $0.nics[0].mac = "52:54:00:12:34" }, "nic.0.hwaddr: \"52:54:00:12:34\" is not a MAC"),
      ("MAC with option", { $0.nics[0].mac = "52:54:00:12:34:56,x=y" }, "nic.0.hwaddr: \"52:54:00:12:34:56,x=y\""),
      (
        "duplicate MAC", { $0.nics.append(VMNIC(tapFD: 6, mac: "52:54:00:ab:cd:01")) },
        "nic.1.hwaddr: 52:54:00:ab:cd:01 is already nic.0's"
      ),
      ("duplicate fd", { $0.serials = [.consoleFD(5)] }, "serial.0: fd 5 is already nic.0 tap"),
      ("stdio fd", { $0.nics[0].tapFD = 1 }, "nic.0 tap: fd 1 is not a passed fd"),
      ("relative disk", { $0.disks = [VMDisk(path: "d.qcow2", format: .qcow2)] }, "disk.0.source: \"d.qcow2\""),
      (
        "readonly volatile", { $0.disks = [VMDisk(path: "/d", format: .raw, readOnly: true, volatile: true)] },
        "disk.0: readonly and volatile together"
      ),
      (
        "two serials on microvm", { $0.serials = [.none, .hostFD(9)] },
        "serial.1: microvm has 1 serial port(s), serial.0…0"
      ),
      ("long socket", { $0.qmpSocket = "/" + String(repeating: "s", count: 107) }, "QMP socket: socket path is 108"),
      ("relative console", { $0.serials = [.consoleSocket(path: "c.sock")] }, "serial.0: \"c.sock\" is not"),
      ("relative agent socket", { $0.agentSockets = ["/a/agent-1.sock", "a.sock"] }, "agent port 2: \"a.sock\""),
      (
        "too many agent ports", { $0.agentSockets = (1...32).map { "/a/agent-\($0).sock" } },
        "agent ports: 32, more than a virtio-serial device's 31"
      ),
    ]
    for (name, mutate, expected) in cases {
      var vm = Self.microvm()
      mutate(&vm)
      XCTAssertThrowsError(try QEMUCommand.argv(vm, tscKHz: 1000), name) { error in
        let message = (error as? VMError)?.message ?? "\(error)"
        XCTAssertTrue(message.hasPrefix(expected), "\(name): \(message)")
        XCTAssertFalse(message.contains("\n"), name)
        XCTAssertEqual((error as? VMError)?.kind == .internal, false, name)
      }
    }
  }

  func testAFirmwareBootWithoutADiskNamesDiskZero() {
    var vm = Self.robot()
    vm.disks = []
    XCTAssertThrowsError(try QEMUCommand.argv(vm, tscKHz: nil)) {
      XCTAssertEqual(($0 as? VMError)?.message, "disk.0.source: firmware boot needs a disk to boot from")
    }
  }

  func testAMicrovmUnderTCGWithoutTheTSCFrequencyIsRefused() {
    XCTAssertThrowsError(try QEMUCommand.argv(Self.microvm(), tscKHz: nil)) {
      XCTAssertTrue(($0 as? VMError)?.message.hasPrefix("tsc_early_khz: microvm under TCG needs") == true)
    }
  }

  func testAnUnknownMachineOrAcceleratorWordNamesItsKey() {
    XCTAssertEqual(try VMMachine.parse("q35", field: "vm.machine"), .q35)
    XCTAssertThrowsError(try VMMachine.parse("virt", field: "vm.machine")) {
      XCTAssertEqual(($0 as? VMError)?.message, "vm.machine: \"virt\" is not one of microvm, q35, pc")
    }
    XCTAssertThrowsError(try VMAccelerator.parse("hvf", field: "vm.accel")) {
      XCTAssertEqual(($0 as? VMError)?.message, "vm.accel: \"hvf\" is not one of kvm, tcg")
    }
    XCTAssertThrowsError(try VMClock.parse("UTC+1", field: "clock")) {
      XCTAssertEqual(($0 as? VMError)?.message, "clock: \"UTC+1\" is not one of utc, localtime")
    }
  }

  // MARK: host TSC

  func testTheTSCFrequencyIsTheFirstCPUMHzLineInKHz() {
    let sample = """
      processor\t: 0
      vendor_id\t: GenuineIntel
      model name\t: Intel(R) Xeon(R) CPU @ 2.40GHz
      cpu MHz\t\t: 2399.998
      cache size\t: 16384 KB

      processor\t: 1
      cpu MHz\t\t: 2400.120

      """
    XCTAssertEqual(HostTSC.kHz(cpuinfo: sample), 2_399_998)
    XCTAssertNil(HostTSC.kHz(cpuinfo: "processor\t: 0\nBogoMIPS\t: 48.00\n"))
    XCTAssertNil(HostTSC.kHz(cpuinfo: "cpu MHz\t\t: nan\n"))
  }

  func testThisHostsTSCFrequencyIsReadable() throws {
    XCTAssertGreaterThan(try HostTSC.kHz(), 100_000)
  }
}
