import CellaNet
import CellaVM
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// The VM test fixtures proven with bare QEMU under TCG, firmware boot (SeaBIOS → syslinux → the Debian
/// kernel): the offline boot disk on a tap on a bridge, reached over HTTP from the bridge's namespace;
/// its serial echo through a pty pair; its marker, written on one boot and found on the next (a qcow2 disk).
final class VMFixtureTests: XCTestCase {
  private var tmp = ""
  private var box: NetBox?
  private var tapName = ""

  override func setUpWithError() throws {
    guard geteuid() == 0 else { throw SuiteConfiguration.skip("VM fixture tests need root") }
    var template = Array(SuiteRun.tmpTemplate.utf8CString)
    guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
    }
    tmp = String(cString: dir)
  }

  override func tearDown() {
    // A tap left in the host namespace by a failed move (it normally goes with its fd).
    if !tapName.isEmpty { Spawner.run("/usr/sbin/ip", ["link", "delete", tapName], outputDirectory: tmp) }
    box?.tearDown()
    if !tmp.isEmpty { try? FileManager.default.removeItem(atPath: tmp) }
  }

  func testFixtureDiskBootsByFirmwareAndServesHTTPOverATapOnABridge() throws {
    let body = "hello from the fixture \(TestEnvironment.randomSuffix(6))"
    let disk = try BootDisk.build(
      in: tmp,
      BootDisk.Options(
        network: .dhcp, httpBody: body,
        script: "ping -c 1 -W 5 10.231.0.1 >/dev/null && echo CELLA-GATEWAY-REACHED\n"
          + "ping -c 1 -W 5 gw.cella-test >/dev/null && echo CELLA-NAME-REACHED"))
    print("boot disk (raw) built in \(String(format: "%.2f", disk.seconds)) s")
    let box = try NetBox()
    self.box = box
    let bridge = "ctbr0"
    // The tap is made here and moved into the box: its fd keeps working in the other namespace.
    tapName = SuiteRun.netDevicePrefix + "v0"
    let tap = try Tap.create(tapName, persistent: false, vnetHeader: true)
    for step in [
      ["link", "set", tapName, "netns", box.host], ["-n", box.host, "link", "add", bridge, "type", "bridge"],
      ["-n", box.host, "address", "add", "10.231.0.1/24", "dev", bridge],
      ["-n", box.host, "link", "set", bridge, "up"],
      ["-n", box.host, "link", "set", tapName, "master", bridge, "up"],
    ] {
      let r = box.ip(step)
      XCTAssertEqual(r.status, 0, "\(r)")
    }
    tapName = ""
    let dnsmasq = try Spawner.spawn(
      "/usr/bin/nsenter",
      Array(box.enterHost.dropFirst()) + [
        "/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--bind-interfaces", "--no-resolv",
        "--no-hosts", "--address=/gw.cella-test/10.231.0.1",
        "--interface=\(bridge)", "--except-interface=lo", "--dhcp-range=10.231.0.100,10.231.0.150,1h",
        "--dhcp-leasefile=\(tmp)/leases", "--pid-file=", "--user=root", "--group=root",
      ], outputDirectory: tmp)
    defer {
      kill(dnsmasq.pid, SIGTERM)
      _ = dnsmasq.wait(timeout: 10)
    }

    let qemu = try BareQEMU(
      [
        "-M", "q35", "-m", "256", "-drive", "file=\(disk.path),format=raw", "-netdev", "tap,id=n0,fd=3",
        "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:09",
      ], directory: tmp, inheriting: [tap.fd.rawValue])
    let ready = qemu.line(BootDisk.readyLine, timeout: 90)
    let seconds = Date().timeIntervalSince(qemu.started)
    let line = try XCTUnwrap(ready, "no ready line; console:\n\(qemu.consoleText)\n\(qemu.stop())")
    print(
      "firmware boot (q35, TCG) to DHCP + HTTP: \(String(format: "%.1f", seconds)) s, of which since the kernel started: "
        + (qemu.line(BootDisk.uptimeLine, timeout: 0)?.split(separator: " ").last.map { "\($0) s" } ?? "?"))
    let address = try XCTUnwrap(line.split(separator: " ").last?.split(separator: "/").first.map(String.init))
    XCTAssertTrue(address.hasPrefix("10.231.0."), line)
    XCTAssertNotNil(qemu.line("CELLA-GATEWAY-REACHED", timeout: 0), qemu.consoleText)
    // The name server came with the lease.
    XCTAssertNotNil(qemu.line("CELLA-NAME-REACHED", timeout: 0), qemu.consoleText)
    // Not busybox wget -T: it crashes (1.35, static).
    let got = box.inHost(["/bin/busybox", "wget", "-q", "-O", "-", "http://\(address)/"], timeout: 20)
    XCTAssertEqual(got.stdout, body, "\(got)")

    qemu.stop()
    _ = consume tap
    XCTAssertNotEqual(
      box.ip(["-n", box.host, "link", "show", SuiteRun.netDevicePrefix + "v0"]).status, 0,
      "the tap outlived QEMU and its fd")
  }

  func testFixtureEchoesItsSerialPortAndFindsTheMarkerItWroteOnTheNextBoot() throws {
    let disk = try BootDisk.build(
      in: tmp, BootDisk.Options(network: .none, serialEcho: true, marker: true, format: .qcow2))
    print("boot disk (qcow2) built in \(String(format: "%.2f", disk.seconds)) s")
    let pty = try PtyPair()
    // pc's default disk is IDE (the seeds' `qemu -m 256 … bmek-A.qcow`): the marker is on /dev/sda2.
    func boot(_ name: String, _ extra: [String]) throws -> BareQEMU {
      let qemu = try BareQEMU(
        ["-M", "pc", "-m", "256", "-drive", "file=\(disk.path),format=qcow2", "-serial", pty.slavePath]
          + extra, directory: tmp, name: name)
      XCTAssertNotNil(qemu.line(BootDisk.readyLine, timeout: 90), "no ready line; console:\n\(qemu.consoleText)")
      return qemu
    }

    let first = try boot("first", [])
    XCTAssertNotNil(first.line(BootDisk.markerLine + " absent", timeout: 1), first.consoleText)
    try pty.write("robot says hi\n")
    XCTAssertTrue(
      pty.read(until: BootDisk.echoPrefix + "robot says hi", timeout: 20).contains(
        BootDisk.echoPrefix + "robot says hi"),
      "read so far: \(pty.text)")
    first.stop()

    let qmp = tmp + "/qmp.sock"
    let second = try boot("second", ["-snapshot", "-qmp", "unix:\(qmp),server=on,wait=off"])
    XCTAssertNotNil(second.line(BootDisk.markerLine + " present", timeout: 1), second.consoleText)
    // ACPI's power button (what `cella stop` presses first) powers the fixture off.
    let client = try QMPClient.connect(path: qmp)
    try client.systemPowerdown()
    XCTAssertEqual(second.waitForExit(timeout: 30).status, 0)
  }
}
