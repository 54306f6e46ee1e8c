import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// The seeds' three VM scenarios (issue 11), under TCG inside a NetBox: a virtual server from a bootable
/// qcow2 disk, a robot's control system with a volatile disk and a host serial port, and a virtual LAN
/// of a container, a direct-kernel VM and a disk-booted VM.
final class ManagerVMScenarioTests: NetBoxTestCase {
  private var kits: [VMTestKit] = []

  override func tearDown() {
    super.tearDown()
    kits.forEach { $0.remove() }
  }

  override func setUpWithError() throws {
    guard access("/usr/bin/qemu-system-x86_64", X_OK) == 0 else {
      throw SuiteConfiguration.skip("no qemu-system-x86_64 (apt-get install qemu-system-x86)")
    }
    try super.setUpWithError()
  }

  private func fixture(_ name: String, _ options: BootDisk.Options) throws -> BootDisk {
    let disk = try BootDisk.build(in: f.tmp, name: name, options)
    chmod(disk.path, 0o644)
    return disk
  }

  /// The address the fixture's init reports on its ready line, once it is up.
  private func readyAddress(_ guest: String, within seconds: Double = 90) -> String? {
    var line: Substring?
    _ = f.eventually(seconds) {
      line = f.cli(["logs", guest]).stdout.split(separator: "\n").first { $0.contains(BootDisk.readyLine) }
      return line != nil
    }
    // Console lines end in CR LF.
    return line?.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
  }

  func testAVirtualServerFromABootableQcow2AnswersAContainerOnTheSameNetwork() throws {
    let disk = try fixture("server", BootDisk.Options(network: .dhcp, httpBody: "virtual server", format: .qcow2))
    f.ok(["network", "create", "lan"])
    let vm = f.name("server")
    let web = f.name("client")
    f.ok(["launch", vm, "--vm", "--disk", disk.path, "-c", "nic.0.network=lan", "-c", "limits.memory=256MiB"])
    launch(web, ["nic.0.network=lan"])
    let address = try XCTUnwrap(readyAddress(vm), f.cli(["logs", vm]).stdout)
    let leased = try XCTUnwrap(nics(vm).first?["ipv4"] as? String)
    XCTAssertEqual(address, leased + "/24", "dnsmasq gave the VM the address IPAM recorded for it")
    let page = f.cli(["exec", web, "--", "wget", "-qO-", "http://\(vm)/"])
    XCTAssertEqual(page.stdout, "virtual server", "\(page)")
    XCTAssertEqual(f.info(vm)["kind"] as? String, "vm")
    let tap = try XCTUnwrap(nics(vm).first?["hostInterface"] as? String)
    XCTAssertTrue(hostLinkNames().contains(tap), "the VM's tap is on the box")
    f.ok(["delete", "--force", vm])
    XCTAssertFalse(hostLinkNames().contains(tap), "the VM's tap went with it")
  }

  func testAVMFromTheBusyboxImageAnswersAContainerByNameOnTheSameNetwork() throws {
    f.ok(["network", "create", "lan"])
    let vm = f.name("imgvm")
    let client = f.name("client")
    f.ok([
      "launch", vm, "--vm", "--image", "busybox", "-c", "nic.0.network=lan", "--", "sh", "-c",
      "mkdir -p /www && echo image vm >/www/index.html && exec httpd -f -p 80 -h /www",
    ])
    launch(client, ["nic.0.network=lan"])
    XCTAssertTrue(
      f.eventually(90) { f.cli(["exec", client, "--", "wget", "-qO-", "http://\(vm)/"]).stdout == "image vm\n" },
      f.cli(["logs", vm]).stdout)
    let address = try XCTUnwrap(nics(vm).first?["ipv4"] as? String)
    XCTAssertTrue(f.ok(["exec", vm, "--", "ip", "-4", "addr", "show", "eth0"]).stdout.contains(address + "/24"))
  }

  func testARobotControlVMKeepsNothingOnItsVolatileDiskAndTalksOnAHostSerialPort() throws {
    let disk = try fixture("robot", BootDisk.Options(network: .dhcp, serialEcho: true, marker: true, format: .qcow2))
    let serial = try PtyPair()
    f.ok(["network", "create", "plant"])
    let robot = f.name("bmek")
    f.ok([
      "create", robot, "--vm", "--disk", disk.path, "-c", "disk.0.volatile=true", "-c", "nic.0.network=plant",
      "-c", "nic.0.mac=52:54:00:12:34:09", "-c", "clock=localtime", "-c", "serial.1=host:\(serial.slavePath)",
      "-c", "vm.machine=pc", "-c", "limits.memory=256MiB",
    ])
    f.ok(["start", robot])
    XCTAssertNotNil(readyAddress(robot), f.cli(["logs", robot]).stdout)
    XCTAssertTrue(f.cli(["logs", robot]).stdout.contains("\(BootDisk.markerLine) absent"))
    XCTAssertEqual(nics(robot).first?["mac"] as? String, "52:54:00:12:34:09")
    try serial.write("hello robot\n")
    XCTAssertTrue(serial.read(until: "\(BootDisk.echoPrefix)hello robot", timeout: 20).contains("echo: hello robot"))

    // What the guest wrote went to a throwaway layer: the next boot finds the disk as it was.
    f.ok(["stop", robot, "--timeout", "20"])
    f.ok(["start", robot])
    // The console log keeps the first boot's lines: wait for the second boot's ready line.
    let boots = { (log: String) in log.components(separatedBy: BootDisk.readyLine).count - 1 }
    XCTAssertTrue(f.eventually(90) { boots(f.cli(["logs", robot]).stdout) == 2 }, f.cli(["logs", robot]).stdout)
    let log = f.cli(["logs", robot]).stdout
    XCTAssertEqual(log.components(separatedBy: "\(BootDisk.markerLine) absent").count - 1, 2, log)
    XCTAssertFalse(log.contains("\(BootDisk.markerLine) present"), log)
    f.ok(["stop", robot, "--timeout", "20"])
    XCTAssertEqual((f.info(robot)["lastExit"] as? [String: Any])?["reason"] as? String, "stopped")
  }

  /// Shell lines for a fixture's init: try each HTTP name for a minute, then ping the outside; one console
  /// line per result (`REACH name body`, `REACH outside ok|fail`).
  private func reachScript(names: [String], outside: String) -> String {
    var lines = ""
    for name in names {
      lines += """
        r=; i=0; while [ -z "$r" ] && [ $i -lt 60 ]; do r=$(wget -qO- http://\(name)/ 2>/dev/null); [ -z "$r" ] && sleep 1; i=$((i+1)); done
        echo "REACH \(name) $r"

        """
    }
    lines +=
      "if ping -c 1 -W 3 \(outside) >/dev/null 2>&1; then echo 'REACH outside ok'; else echo 'REACH outside fail'; fi\n"
    return lines
  }

  func testAContainerADirectKernelVMAndADiskVMShareOneLANByNameAndReachTheOutside() throws {
    let kit = try VMTestKit()
    // Removed after the fixture's teardown deleted the guests that boot from it.
    kits.append(kit)
    f.ok(["network", "create", "lan"])
    let c = f.name("ct")
    let k = f.name("kvm")
    let d = f.name("dvm")
    let initrd = try BootDisk.initramfsFile(
      in: kit.dir,
      BootDisk.Options(
        network: .dhcp, httpBody: "kernel vm", script: reachScript(names: [c, d], outside: box.outsideAddress)))
    let disk = try fixture(
      "diskvm",
      BootDisk.Options(
        network: .dhcp, httpBody: "disk vm", script: reachScript(names: [c, k + ".cella"], outside: box.outsideAddress)
      ))
    launch(
      c, ["nic.0.network=lan"],
      ["sh", "-c", "mkdir -p /www && echo container >/www/index.html && exec httpd -f -p 80 -h /www"])
    f.ok([
      "launch", k, "--vm", "--kernel", kit.vmlinux, "--initrd", initrd, "-c", "nic.0.network=lan", "-c",
      "limits.memory=256MiB", "-c", "vm.machine=q35",  // the fixture's init loads virtio on PCI
    ])
    f.ok(["launch", d, "--vm", "--disk", disk.path, "-c", "nic.0.network=lan", "-c", "limits.memory=256MiB"])
    XCTAssertNotNil(readyAddress(k, within: 150), f.cli(["logs", k]).stdout)
    XCTAssertNotNil(readyAddress(d, within: 150), f.cli(["logs", d]).stdout)
    // The container reaches both VMs by name.
    XCTAssertEqual(f.cli(["exec", c, "--", "wget", "-qO-", "http://\(k)/"]).stdout, "kernel vm")
    XCTAssertEqual(f.cli(["exec", c, "--", "wget", "-qO-", "http://\(d).cella/"]).stdout, "disk vm")
    // Each VM reached the container and the other VM by name, and the outside through NAT.
    let kernelLog = f.cli(["logs", k]).stdout
    XCTAssertTrue(kernelLog.contains("REACH \(c) container"), kernelLog)
    XCTAssertTrue(kernelLog.contains("REACH \(d) disk vm"), kernelLog)
    XCTAssertTrue(kernelLog.contains("REACH outside ok"), kernelLog)
    let diskLog = f.cli(["logs", d]).stdout
    XCTAssertTrue(diskLog.contains("REACH \(c) container"), diskLog)
    XCTAssertTrue(diskLog.contains("REACH \(k).cella kernel vm"), diskLog)
    XCTAssertTrue(diskLog.contains("REACH outside ok"), diskLog)
  }
}
