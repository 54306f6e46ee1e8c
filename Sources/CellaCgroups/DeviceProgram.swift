import CShims
import CellaOCI
import CellaSys
import Glibc

/// One device rule with defaults filled in: type "a", any major/minor, access "rwm".
struct DeviceRule: Equatable {
  var allow: Bool
  /// "a", "b" or "c".
  var type: Character
  /// nil: any.
  var major: UInt32?
  var minor: UInt32?
  /// Subset of "rwm".
  var access: String

  init(_ rule: LinuxDeviceCgroup) {
    allow = rule.allow
    type = rule.type?.first ?? "a"
    // Validation refused anything below -1 or above UInt32.max; -1 (and so nil here) means any.
    major = rule.major.flatMap { UInt32(exactly: $0) }
    minor = rule.minor.flatMap { UInt32(exactly: $0) }
    access = rule.access.flatMap { $0.isEmpty ? nil : $0 } ?? "rwm"
  }

  /// The line for v1 devices.allow / devices.deny ("c 1:3 rwm").
  var v1Entry: String {
    "\(type) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(access)"
  }

  /// Access bits as the BPF context encodes them (mknod 1, read 2, write 4).
  var accessBits: Int32 {
    (access.contains("m") ? 1 : 0) | (access.contains("r") ? 2 : 0) | (access.contains("w") ? 4 : 0)
  }
}

/// The cgroup v2 device controller: a BPF_PROG_TYPE_CGROUP_DEVICE program assembled from the
/// rules and attached to the cgroup directory (v2 has no devices.allow file).
enum DeviceProgram {
  /// One eBPF instruction.
  struct Instruction: Equatable {
    var code: UInt8
    var dst: UInt8 = 0
    var src: UInt8 = 0
    var off: Int16 = 0
    var imm: Int32 = 0

    var bytes: [UInt8] {
      let o = UInt16(bitPattern: off)
      let i = UInt32(bitPattern: imm)
      return [
        code, (src << 4) | (dst & 0xf), UInt8(o & 0xff), UInt8(o >> 8),
        UInt8(i & 0xff), UInt8((i >> 8) & 0xff), UInt8((i >> 16) & 0xff), UInt8(i >> 24),
      ]
    }
  }

  // Opcodes (class | size/op | source), from the eBPF instruction set.
  static let ldxw: UInt8 = 0x61  // BPF_LDX | BPF_MEM | BPF_W
  static let mov64Reg: UInt8 = 0xbf  // BPF_ALU64 | BPF_MOV | BPF_X
  static let mov64Imm: UInt8 = 0xb7  // BPF_ALU64 | BPF_MOV | BPF_K
  static let and64Imm: UInt8 = 0x57  // BPF_ALU64 | BPF_AND | BPF_K
  static let rsh64Imm: UInt8 = 0x77  // BPF_ALU64 | BPF_RSH | BPF_K
  static let jeqImm: UInt8 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
  static let jneImm: UInt8 = 0x55  // BPF_JMP | BPF_JNE | BPF_K
  static let jsetImm: UInt8 = 0x45  // BPF_JMP | BPF_JSET | BPF_K
  static let exit: UInt8 = 0x95  // BPF_JMP | BPF_EXIT

  /// The program: load the request (type in r3, access in r4, major r5, minor r6), then test the
  /// rules from last to first so the last matching rule decides, as in v1; no match denies.
  static func assemble(_ rules: [LinuxDeviceCgroup]) -> [Instruction] {
    var prog: [Instruction] = [
      .init(code: ldxw, dst: 2, src: 1, off: 0),  // access_type
      .init(code: mov64Reg, dst: 3, src: 2),
      .init(code: and64Imm, dst: 3, imm: 0xffff),  // device type
      .init(code: mov64Reg, dst: 4, src: 2),
      .init(code: rsh64Imm, dst: 4, imm: 16),  // requested access
      .init(code: ldxw, dst: 5, src: 1, off: 4),  // major
      .init(code: ldxw, dst: 6, src: 1, off: 8),  // minor
    ]
    for rule in rules.reversed().map(DeviceRule.init) {
      // Each check is a list of instructions whose last one jumps past the block on mismatch.
      var checks: [[Instruction]] = []
      if rule.type != "a" {
        checks.append([.init(code: jneImm, dst: 3, imm: rule.type == "b" ? 1 : 2)])
      }
      let bits = rule.accessBits
      if bits != 7 {
        if rule.allow {
          // Allow only when every requested bit is granted.
          checks.append([.init(code: jsetImm, dst: 4, imm: ~bits & 7)])
        } else {
          // Deny when any requested bit is denied.
          checks.append([
            .init(code: mov64Reg, dst: 7, src: 4), .init(code: and64Imm, dst: 7, imm: bits),
            .init(code: jeqImm, dst: 7, imm: 0),
          ])
        }
      }
      if let major = rule.major { checks.append([.init(code: jneImm, dst: 5, imm: Int32(bitPattern: major))]) }
      if let minor = rule.minor { checks.append([.init(code: jneImm, dst: 6, imm: Int32(bitPattern: minor))]) }
      var block = checks.flatMap { $0 }
      block += [.init(code: mov64Imm, dst: 0, imm: rule.allow ? 1 : 0), .init(code: exit)]
      // Patch each check's jump to land just after this block.
      var index = 0
      for check in checks {
        index += check.count
        block[index - 1].off = Int16(block.count - index)
      }
      prog += block
      // A rule that matches everything ends the program: the verifier rejects unreachable code.
      if checks.isEmpty { return prog }
    }
    prog += [.init(code: mov64Imm, dst: 0, imm: 0), .init(code: exit)]
    return prog
  }

  /// Loads the program for `rules` and attaches it to `cgroup`, replacing programs attached before.
  static func install(_ rules: [LinuxDeviceCgroup], cgroup: String) throws(CgroupError) {
    let field = "linux.resources.devices"
    guard cella_statfs_type(cgroup) == CgroupFiles.v2Magic else {
      throw CgroupError("\(field): \(cgroup) is not a cgroup2 directory, so no device program can be attached")
    }
    let code = assemble(rules).flatMap(\.bytes)
    var log = [UInt8](repeating: 0, count: 1 << 16)
    let progFD = code.withUnsafeBytes { insns in
      log.withUnsafeMutableBufferPointer { buf in
        buf.withMemoryRebound(to: CChar.self) {
          cella_bpf_load_device_prog(insns.baseAddress, UInt32(code.count / 8), $0.baseAddress, UInt32($0.count))
        }
      }
    }
    if progFD < 0 {
      let e = SysError("bpf(BPF_PROG_LOAD)")
      let verifier = String(decoding: log.prefix { $0 != 0 }, as: UTF8.self).split(separator: "\n").suffix(3).joined(
        separator: "; ")
      var msg = CgroupError.sys(field, e).message
      if !verifier.isEmpty { msg += " (verifier: \(verifier))" }
      throw CgroupError(msg)
    }
    let prog = FileDescriptor(adopting: progFD)
    let dir: FileDescriptor
    do { dir = try FileDescriptor.open(cgroup, flags: O_DIRECTORY) } catch { throw CgroupError.sys(field, error) }
    var ids = [UInt32](repeating: 0, count: 64)
    let count = max(cella_bpf_query_device_progs(dir.rawValue, &ids, UInt32(ids.count)), 0)
    let old = ids.prefix(Int(count))
    // Attach the new program before detaching the old ones so the cgroup is never unguarded.
    if cella_bpf_attach_device_prog(dir.rawValue, prog.rawValue, cella_bpf_allow_multi()) != 0 {
      let e = SysError("bpf(BPF_PROG_ATTACH)", path: cgroup)
      // A program attached without BPF_F_ALLOW_MULTI by someone else can only be replaced.
      if cella_bpf_attach_device_prog(dir.rawValue, prog.rawValue, 0) != 0 { throw CgroupError.sys(field, e) }
      return
    }
    for id in old {
      let fd = cella_bpf_prog_fd_by_id(id)
      if fd < 0 { continue }
      let oldProg = FileDescriptor(adopting: fd)
      _ = cella_bpf_detach_device_prog(dir.rawValue, oldProg.rawValue)
    }
  }

  /// Ids of the device programs attached to `cgroup` (for tests and diagnostics).
  static func attached(cgroup: String) -> [UInt32] {
    guard let dir = try? FileDescriptor.open(cgroup, flags: O_DIRECTORY) else { return [] }
    var ids = [UInt32](repeating: 0, count: 64)
    let count = cella_bpf_query_device_progs(dir.rawValue, &ids, UInt32(ids.count))
    return count > 0 ? Array(ids.prefix(Int(count))) : []
  }
}
