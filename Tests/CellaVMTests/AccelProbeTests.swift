import CellaSys
import Glibc
import XCTest

@testable import CellaVM

final class AccelProbeTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    dir = makeTestDirectory()
  }

  override func tearDownWithError() throws { try? FileIO.removeTree(dir) }

  /// A probe whose "QEMU" is a shell script and whose /dev/kvm, PVM module and boot id are scratch paths.
  private func probe(qemuScript: String, kvm: Bool = true, pvm: Bool = false) throws -> AccelProbe {
    try FileIO.writeAtomically(
      path: dir + "/qemu", Array("#!/bin/sh\n\(qemuScript)\n".utf8), mode: 0o755, durable: false)
    try FileIO.writeAtomically(path: dir + "/boot_id", Array("boot-1\n".utf8), durable: false)
    if pvm { mkdir(dir + "/kvm_pvm", 0o755) }
    var p = AccelProbe()
    p.qemu = dir + "/qemu"
    p.devKVM = kvm ? "/dev/null" : dir + "/no-kvm"
    p.pvmModule = dir + "/kvm_pvm"
    p.bootIDPath = dir + "/boot_id"
    p.timeout = 1
    return p
  }

  func testAQEMUThatStartsAndQuitsMeansKVM() throws {
    XCTAssertEqual(try probe(qemuScript: "cat >/dev/null").probe(), .kvm)
  }

  func testAMissingDevKVMMeansTCGNamingIt() throws {
    XCTAssertEqual(
      try probe(qemuScript: "exit 0", kvm: false).probe(), .tcg(reason: "\(dir)/no-kvm: No such file or directory"))
  }

  func testTheMSRAbortMeansTCGQuotingQEMUsErrorLine() throws {
    let script = """
      echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69' >&2
      echo 'qemu-system-x86_64: kvm.c:3183: kvm_buf_set_msrs: Assertion failed.' >&2
      kill -ABRT $$
      """
    XCTAssertEqual(
      try probe(qemuScript: script).probe(),
      .tcg(reason: "QEMU -accel kvm -cpu host exited 134 (error: failed to set MSR 0x10a to 0x69)"))
  }

  func testALoadedPVMModuleMeansTCGEvenWhenQEMUStarts() throws {
    let verdict = try probe(qemuScript: "exit 0", pvm: true).probe()
    XCTAssertEqual(verdict.name, "tcg")
    XCTAssertTrue(verdict.summary.contains("is PVM"), verdict.summary)
  }

  func testAHungQEMUIsKilledAtTheDeadline() throws {
    let started = KernelTool.monotonicSeconds()
    let verdict = try probe(qemuScript: "exec sleep 30").probe()
    XCTAssertEqual(verdict, .tcg(reason: "QEMU with -accel kvm did not start and quit within 1.0 s"))
    XCTAssertLessThan(KernelTool.monotonicSeconds() - started, 3)
  }

  func testTheVerdictIsCachedForThisBootOnly() throws {
    var p = try probe(qemuScript: "exit 0")
    let cache = dir + "/accel"
    XCTAssertEqual(try p.verdict(cachePath: cache), .kvm)
    // A probe that would now fail is not run again in the same boot.
    try FileIO.writeAtomically(path: dir + "/qemu", Array("#!/bin/sh\nexit 3\n".utf8), mode: 0o755, durable: false)
    XCTAssertEqual(try p.verdict(cachePath: cache), .kvm)
    try FileIO.writeAtomically(path: dir + "/boot_id", Array("boot-2\n".utf8), durable: false)
    XCTAssertEqual(try p.verdict(cachePath: cache).name, "tcg")
    p.bootIDPath = dir + "/boot_id"
    XCTAssertEqual(try FileIO.readString(cache), "boot-2\ntcg\nQEMU -accel kvm -cpu host exited 3\n")
  }

  func testAMissingQEMUIsAnErrorNamingThePackage() throws {
    var p = AccelProbe()
    p.qemu = dir + "/none"
    XCTAssertThrowsError(try p.probe()) {
      XCTAssertEqual(($0 as! VMError).message, "\(dir)/none: not found; install qemu-system-x86")
    }
  }

  /// Runs the real probe against this host's QEMU and /dev/kvm.
  func testTheRealProbeGivesAVerdictWithinItsDeadline() throws {
    let p = AccelProbe()
    guard access(p.qemu, X_OK) == 0 else { throw XCTSkip("\(p.qemu) missing (install qemu-system-x86)") }
    let started = KernelTool.monotonicSeconds()
    let verdict = try p.probe()
    let took = KernelTool.monotonicSeconds() - started
    print("accelerator probe: \(verdict.summary) (\(took) s)")
    XCTAssertLessThan(took, p.timeout + 1)
    if FileIO.isDirectory("/sys/module/kvm_pvm") {
      XCTAssertEqual(verdict.name, "tcg")
      XCTAssertTrue(verdict.summary.contains("is PVM"), verdict.summary)
    }
  }
}
