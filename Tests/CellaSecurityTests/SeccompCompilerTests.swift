import CSeccomp
import CellaOCI
import XCTest

@testable import CellaSecurity

/// Compiles filters with libseccomp and inspects the PFC text; nothing is loaded.
final class SeccompCompilerTests: XCTestCase {
  private func pfc(_ config: LinuxSeccomp) throws -> String {
    try SeccompCompiler.pfc(config)
  }

  private func error(_ config: LinuxSeccomp) -> String? {
    do {
      _ = try SeccompCompiler.compile(config)
      return nil
    } catch {
      return error.message
    }
  }

  private func one(_ rule: LinuxSyscall, defaultAction: String = "SCMP_ACT_ERRNO", listener: String? = nil)
    -> LinuxSeccomp
  {
    LinuxSeccomp(defaultAction: defaultAction, listenerPath: listener, syscalls: [rule])
  }

  func testEveryActionAppearsInPFC() throws {
    // libseccomp 2.5.4 prints NOTIFY as its raw value; newer releases print the name.
    let cases: [(action: String, errnoRet: UInt32?, expected: [String])] = [
      ("SCMP_ACT_KILL", nil, ["action KILL;"]),
      ("SCMP_ACT_KILL_THREAD", nil, ["action KILL;"]),
      ("SCMP_ACT_KILL_PROCESS", nil, ["action KILL_PROCESS;"]),
      ("SCMP_ACT_TRAP", nil, ["action TRAP;"]),
      ("SCMP_ACT_ERRNO", 38, ["action ERRNO(38);"]),
      ("SCMP_ACT_ERRNO", nil, ["action ERRNO(1);"]),
      ("SCMP_ACT_TRACE", 7, ["action TRACE(7);"]),
      ("SCMP_ACT_LOG", nil, ["action LOG;"]),
      ("SCMP_ACT_NOTIFY", nil, ["action NOTIFY;", "action 0x7fc00000;"]),
    ]
    for c in cases {
      let text = try pfc(
        one(
          LinuxSyscall(names: ["getppid"], action: c.action, errnoRet: c.errnoRet), defaultAction: "SCMP_ACT_ALLOW",
          listener: "/run/listener.sock"))
      XCTAssertTrue(text.contains("\"getppid\""), "\(c.action): rule missing\n\(text)")
      XCTAssertTrue(c.expected.contains { text.contains($0) }, "\(c.action): expected \(c.expected)\n\(text)")
    }
    let allow = try pfc(one(LinuxSyscall(names: ["getppid"], action: "SCMP_ACT_ALLOW")))
    XCTAssertTrue(allow.contains("action ALLOW;"))
  }

  func testDefaultErrnoRetIsTheDefaultAction() throws {
    let text = try pfc(LinuxSeccomp(defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 13))
    XCTAssertTrue(text.contains("# default action\n  action ERRNO(13);"), text)
    let eperm = try pfc(LinuxSeccomp(defaultAction: "SCMP_ACT_ERRNO"))
    XCTAssertTrue(eperm.contains("action ERRNO(1);"), eperm)
  }

  func testErrnoRetOnOtherActionsIsRejected() {
    let message = error(one(LinuxSyscall(names: ["read"], action: "SCMP_ACT_ALLOW", errnoRet: 5)))
    XCTAssertEqual(
      message,
      "linux.seccomp.syscalls[0].errnoRet: is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_ALLOW")
    let onDefault = error(LinuxSeccomp(defaultAction: "SCMP_ACT_KILL", defaultErrnoRet: 5))
    XCTAssertTrue(onDefault?.hasPrefix("linux.seccomp.defaultErrnoRet:") ?? false, onDefault ?? "nil")
    let tooBig = error(one(LinuxSyscall(names: ["read"], action: "SCMP_ACT_ERRNO", errnoRet: 70000)))
    XCTAssertTrue(tooBig?.hasPrefix("linux.seccomp.syscalls[0].errnoRet: 70000 is out of range") ?? false)
  }

  func testUnknownActionAndOperatorNameTheField() {
    XCTAssertEqual(
      error(one(LinuxSyscall(names: ["read"], action: "SCMP_ACT_FOO"))),
      "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_FOO\"")
    XCTAssertEqual(
      error(LinuxSeccomp(defaultAction: "SCMP_ACT_NOPE")),
      "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"")
    let badOp = LinuxSyscall(
      names: ["read"], action: "SCMP_ACT_ALLOW", args: [LinuxSeccompArg(index: 0, value: 1, op: "SCMP_CMP_XOR")])
    XCTAssertEqual(error(one(badOp)), "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_XOR\"")
    let badIndex = LinuxSyscall(
      names: ["read"], action: "SCMP_ACT_ALLOW", args: [LinuxSeccompArg(index: 6, value: 1, op: "SCMP_CMP_EQ")])
    XCTAssertEqual(error(one(badIndex)), "linux.seccomp.syscalls[0].args[0].index: 6 is out of range 0...5")
  }

  func testEveryOperatorCompilesToItsComparison() throws {
    // BPF only has ==, > and >= (and &); libseccomp writes the others as the
    // else branch of their complement, so check the comparison and that no
    // two operators give the same filter.
    let cases: [(op: String, expected: String)] = [
      ("SCMP_CMP_NE", "$a1.lo32 == 17"), ("SCMP_CMP_LT", "$a1.lo32 >= 17"), ("SCMP_CMP_LE", "$a1.lo32 > 17"),
      ("SCMP_CMP_EQ", "$a1.lo32 == 17"), ("SCMP_CMP_GE", "$a1.lo32 >= 17"), ("SCMP_CMP_GT", "$a1.lo32 > 17"),
      ("SCMP_CMP_MASKED_EQ", "$a1.lo32 & 0x00000011 == 1"),
    ]
    var texts: Set<String> = []
    for c in cases {
      let rule = LinuxSyscall(
        names: ["socket"], action: "SCMP_ACT_ERRNO", args: [LinuxSeccompArg(index: 1, value: 17, valueTwo: 1, op: c.op)]
      )
      let text = try pfc(one(rule, defaultAction: "SCMP_ACT_ALLOW"))
      XCTAssertTrue(text.contains(c.expected), "\(c.op): expected \(c.expected)\n\(text)")
      texts.insert(text)
    }
    XCTAssertEqual(texts.count, cases.count, "two operators compiled to the same filter")
  }

  func testSameIndexArgsAreAlternativesAndDifferentIndexesCombine() throws {
    let args = [
      LinuxSeccompArg(index: 0, value: 8, op: "SCMP_CMP_EQ"),
      LinuxSeccompArg(index: 0, value: 0, op: "SCMP_CMP_EQ"),
      LinuxSeccompArg(index: 2, value: 3, op: "SCMP_CMP_EQ"),
    ]
    let sets = try XCTUnwrap(try? SeccompFilter.conditions(args, field: "f"))
    XCTAssertEqual(sets.count, 2, "one rule per alternative on index 0")
    XCTAssertEqual(sets.map { $0.map(\.arg) }, [[0, 2], [0, 2]])
    XCTAssertEqual(sets.map { $0.map(\.datum_a) }, [[8, 3], [0, 3]])

    let text = try pfc(one(LinuxSyscall(names: ["personality"], action: "SCMP_ACT_ALLOW", args: args)))
    XCTAssertTrue(text.contains("$a0.lo32 == 8"), text)
    XCTAssertTrue(text.contains("$a0.lo32 == 0"), text)
    XCTAssertTrue(text.contains("$a2.lo32 == 3"), text)
    XCTAssertEqual(text.components(separatedBy: "action ALLOW;").count - 1, 2, text)
  }

  func testTooManyAlternativesAreRefused() {
    let args = (0..<6).flatMap { index in
      (0..<3).map { LinuxSeccompArg(index: UInt32(index), value: UInt64($0), op: "SCMP_CMP_EQ") }
    }
    let message = error(one(LinuxSyscall(names: ["ioctl"], action: "SCMP_ACT_ALLOW", args: args)))
    XCTAssertTrue(message?.hasPrefix("linux.seccomp.syscalls[0].args: alternatives") ?? false, message ?? "nil")
  }

  func testUnknownSyscallIsSkippedAndListed() throws {
    let config = one(LinuxSyscall(names: ["read", "not_a_syscall_cella", "write"], action: "SCMP_ACT_ALLOW"))
    let compiled = try SeccompCompiler.compile(config)
    XCTAssertEqual(compiled.skippedSyscalls, ["not_a_syscall_cella"])
    let text = try pfc(config)
    XCTAssertTrue(text.contains("\"read\"") && text.contains("\"write\""), text)
  }

  func testRuleWithTheDefaultActionIsLeftOut() throws {
    let config = LinuxSeccomp(
      defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1,
      syscalls: [
        LinuxSyscall(names: ["mount"], action: "SCMP_ACT_ERRNO"),
        LinuxSyscall(names: ["umount2"], action: "SCMP_ACT_ERRNO", errnoRet: 2),
      ])
    let text = try pfc(config)
    XCTAssertFalse(text.contains("\"mount\""), text)
    XCTAssertTrue(text.contains("\"umount2\""), "a different errno is a different action\n\(text)")
  }

  func testArchitectures() throws {
    let config = LinuxSeccomp(
      defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
      syscalls: [LinuxSyscall(names: ["read"], action: "SCMP_ACT_ALLOW")])
    let text = try pfc(config)
    for arch in ["x86_64", "x86", "aarch64"] {
      XCTAssertTrue(text.contains("# filter for arch \(arch) "), "\(arch) missing\n\(text)")
    }
    let bad = LinuxSeccomp(defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"])
    XCTAssertEqual(error(bad), "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"")
    let short = LinuxSeccomp(defaultAction: "SCMP_ACT_ERRNO", architectures: ["x86_64"])
    XCTAssertEqual(error(short), "linux.seccomp.architectures[0]: unknown architecture \"x86_64\"")
  }

  func testFlags() throws {
    let unknown = LinuxSeccomp(defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_FAST"])
    XCTAssertTrue(
      error(unknown)?.hasPrefix("linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FAST\"") ?? false)

    let supported = Set(SeccompFeatures.supportedFlags)
    if supported.contains("SECCOMP_FILTER_FLAG_LOG") && supported.contains("SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
      let config = LinuxSeccomp(
        defaultAction: "SCMP_ACT_ALLOW",
        flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"])
      let compiled = try SeccompCompiler.compile(config)
      XCTAssertEqual(compiled.flags, 2 | 4, "TSYNC is a no-op for a single-threaded init")
    }

    // WAIT_KILLABLE_RECV only means something with a listener; the kernel refuses it otherwise.
    let waitFlag = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
    guard supported.contains(waitFlag) else {
      XCTAssertTrue(
        error(LinuxSeccomp(defaultAction: "SCMP_ACT_ALLOW", flags: [waitFlag]))?.contains("not supported") ?? false)
      return
    }
    let quiet = try SeccompCompiler.compile(LinuxSeccomp(defaultAction: "SCMP_ACT_ALLOW", flags: [waitFlag]))
    XCTAssertEqual(quiet.flags, 0)
    XCTAssertFalse(quiet.needsListener)
    let notify = LinuxSeccomp(
      defaultAction: "SCMP_ACT_ALLOW", flags: [waitFlag], listenerPath: "/run/l.sock",
      syscalls: [LinuxSyscall(names: ["mkdir"], action: "SCMP_ACT_NOTIFY")])
    let compiled = try SeccompCompiler.compile(notify)
    XCTAssertEqual(compiled.flags, 32)
    XCTAssertTrue(compiled.needsListener)
  }

  func testNotifyNeedsAListenerPath() {
    let config = one(LinuxSyscall(names: ["mkdir"], action: "SCMP_ACT_NOTIFY"), defaultAction: "SCMP_ACT_ALLOW")
    XCTAssertEqual(error(config), "linux.seccomp.listenerPath: missing; SCMP_ACT_NOTIFY needs a listener socket")
  }

  func testCompiledBPFIsWholeInstructions() throws {
    let compiled = try SeccompCompiler.compile(
      LinuxSeccomp(
        defaultAction: "SCMP_ACT_ERRNO", syscalls: [LinuxSyscall(names: ["read", "write"], action: "SCMP_ACT_ALLOW")]))
    XCTAssertFalse(compiled.bpf.isEmpty)
    XCTAssertEqual(compiled.bpf.count % 8, 0)
    XCTAssertFalse(compiled.needsListener)
    XCTAssertEqual(compiled.skippedSyscalls, [])
    // Decode sock_filter records {code: u16, jt: u8, jf: u8, k: u32}, little endian.
    let records = stride(from: 0, to: compiled.bpf.count, by: 8).map { i -> (code: UInt16, k: UInt32) in
      let b = compiled.bpf
      let k = UInt32(b[i + 4]) | UInt32(b[i + 5]) << 8 | UInt32(b[i + 6]) << 16 | UInt32(b[i + 7]) << 24
      return (UInt16(b[i]) | UInt16(b[i + 1]) << 8, k)
    }
    // First the architecture check: BPF_LD|BPF_W|BPF_ABS of seccomp_data.arch (offset 4).
    XCTAssertEqual(records.first?.code, 0x20)
    XCTAssertEqual(records.first?.k, 4)
    // Somewhere the default action: BPF_RET|BPF_K with SECCOMP_RET_ERRNO | EPERM.
    XCTAssertTrue(records.contains { $0.code == 0x06 && $0.k == 0x0005_0001 })
    XCTAssertTrue(records.contains { $0.code == 0x06 && $0.k == 0x7fff_0000 })
  }

  func testLoaderRejectsAnEmptyProgramWithoutLoading() {
    // An empty program fails in the shim before seccomp(2) is called, so this
    // exercises the error path without filtering the test process.
    let empty = CompiledSeccomp(bpf: [], flags: 0, needsListener: false, skippedSyscalls: [])
    XCTAssertThrowsError(try SeccompLoader.load(empty)) { error in
      XCTAssertTrue("\(error)".hasPrefix("seccomp: loading the filter: invalid argument"), "\(error)")
    }
  }
}
