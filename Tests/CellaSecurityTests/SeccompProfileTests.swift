import CellaOCI
import XCTest

@testable import CellaSecurity

/// The shipped profiles under Profiles/seccomp parse with the OCI decoder and compile.
final class SeccompProfileTests: XCTestCase {
  private func load(_ name: String) throws -> LinuxSeccomp {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let url = root.appendingPathComponent("Profiles/seccomp/\(name).json")
    let bytes = [UInt8](try Data(contentsOf: url))
    return try OCIJSON.decode(LinuxSeccomp.self, from: bytes, file: "\(name).json")
  }

  /// Names newer than some libseccomp releases know; a build may skip these and nothing else.
  private let recentSyscalls: Set<String> = [
    "mseal", "map_shadow_stack", "futex_wait", "futex_wake", "futex_requeue", "fchmodat2", "cachestat",
    "setxattrat", "getxattrat", "listxattrat", "removexattrat", "set_mempolicy_home_node", "memfd_secret",
  ]

  private func allowedUnconditionally(_ config: LinuxSeccomp) -> Set<String> {
    Set((config.syscalls ?? []).filter { $0.action == "SCMP_ACT_ALLOW" && $0.args == nil }.flatMap(\.names))
  }

  func testDefaultProfileParsesAndCompiles() throws {
    let config = try load("default")
    XCTAssertEqual(config.defaultAction, "SCMP_ACT_ERRNO")
    XCTAssertEqual(config.defaultErrnoRet, 1)
    XCTAssertEqual(
      config.architectures,
      ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])
    let compiled = try SeccompCompiler.compile(config)
    XCTAssertFalse(compiled.bpf.isEmpty)
    XCTAssertEqual(compiled.bpf.count % 8, 0)
    // The kernel caps a program at 4096 instructions.
    XCTAssertLessThanOrEqual(compiled.bpf.count / 8, 4096)
    XCTAssertFalse(compiled.needsListener)
    XCTAssertTrue(Set(compiled.skippedSyscalls).isSubset(of: recentSyscalls), "\(compiled.skippedSyscalls)")

    let unconditional = allowedUnconditionally(config)
    for name in [
      "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "open_by_handle_at", "bpf",
      "perf_event_open", "userfaultfd", "mount", "umount2", "pivot_root", "unshare", "setns", "ptrace",
      "process_vm_readv", "process_vm_writev", "reboot", "swapon", "swapoff", "init_module", "finit_module",
      "delete_module", "acct", "settimeofday", "clock_settime", "adjtimex", "lookup_dcookie", "io_uring_setup",
      "clone", "clone3", "personality",
    ] {
      XCTAssertFalse(unconditional.contains(name), "\(name) must not be allowed unconditionally")
    }
    for name in ["read", "openat", "mmap", "futex", "socket", "epoll_wait", "execve", "exit_group", "rt_sigreturn"] {
      XCTAssertTrue(unconditional.contains(name), "\(name) must be allowed")
    }

    let text = try SeccompCompiler.pfc(config)
    XCTAssertTrue(text.contains("$a0.lo32 & 0x7e020000 == 0"), "clone without CLONE_NEW* flags")
    XCTAssertTrue(text.contains("action ERRNO(38);"), "clone3 answers ENOSYS")
    XCTAssertFalse(text.contains("\"ptrace\""))
  }

  func testStrictProfileParsesAndCompiles() throws {
    let config = try load("strict")
    let compiled = try SeccompCompiler.compile(config)
    XCTAssertFalse(compiled.bpf.isEmpty)
    XCTAssertEqual(compiled.bpf.count % 8, 0)
    XCTAssertLessThanOrEqual(compiled.bpf.count / 8, 4096)
    XCTAssertTrue(Set(compiled.skippedSyscalls).isSubset(of: recentSyscalls), "\(compiled.skippedSyscalls)")

    let allowed = allowedUnconditionally(config)
    XCTAssertTrue(
      allowed.isSubset(of: allowedUnconditionally(try load("default"))), "strict only narrows the default profile")
    for name in ["ptrace", "mount", "unshare", "setns", "execveat", "chroot", "mknod", "keyctl", "bpf"] {
      XCTAssertFalse(allowed.contains(name), name)
    }
    for name in ["execve", "fork", "accept4", "epoll_pwait", "futex", "openat", "exit_group", "clock_gettime"] {
      XCTAssertTrue(allowed.contains(name), name)
    }
  }

  func testProfilesPassTheSpecValidatorTables() throws {
    for name in ["default", "strict"] {
      for rule in try load(name).syscalls ?? [] {
        XCTAssertTrue(SeccompAction(rawValue: rule.action) != nil)
        for arg in rule.args ?? [] { XCTAssertTrue(SeccompOperator(rawValue: arg.op) != nil) }
      }
    }
  }
}
