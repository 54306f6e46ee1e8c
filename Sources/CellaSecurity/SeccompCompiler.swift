import CSeccomp
import CShims
import CellaErrors
import CellaOCI
import CellaSys
import Glibc

/// A seccomp filter compiled in the parent, ready for the container's init to load.
public struct CompiledSeccomp: Sendable {
  /// The filter as an array of `struct sock_filter` (8 bytes each), as seccomp_export_bpf writes it.
  public let bpf: [UInt8]
  /// SECCOMP_FILTER_FLAG_* bits to load with (never TSYNC; NEW_LISTENER is added by the loader).
  public let flags: UInt32
  /// Whether some rule or the default action is SCMP_ACT_NOTIFY, so the load must ask for a listener fd.
  public let needsListener: Bool
  /// Syscall names the installed libseccomp does not know; their rules were left out.
  public let skippedSyscalls: [String]

  /// Builds a value from parts (tests, or a filter received from elsewhere).
  public init(bpf: [UInt8], flags: UInt32, needsListener: Bool, skippedSyscalls: [String]) {
    self.bpf = bpf
    self.flags = flags
    self.needsListener = needsListener
    self.skippedSyscalls = skippedSyscalls
  }
}

/// Turns an OCI `linux.seccomp` object into BPF with libseccomp.
public enum SeccompCompiler {
  /// Compiles in the calling (parent) process; never loads anything.
  public static func compile(_ config: LinuxSeccomp) throws(SeccompError) -> CompiledSeccomp {
    let filter = try SeccompFilter(config)
    defer { filter.release() }
    let bpf = try filter.export("BPF", seccomp_export_bpf)
    // A whole number of sock_filter records is what the kernel will accept.
    guard !bpf.isEmpty, bpf.count % 8 == 0 else {
      throw SeccompError("seccomp: libseccomp exported \(bpf.count) bytes, not a whole BPF program")
    }
    return CompiledSeccomp(
      bpf: bpf, flags: filter.flags, needsListener: filter.needsListener, skippedSyscalls: filter.skipped)
  }

  /// libseccomp's human-readable PFC text of the same filter, for tests and --debug.
  public static func pfc(_ config: LinuxSeccomp) throws(SeccompError) -> String {
    let filter = try SeccompFilter(config)
    defer { filter.release() }
    let text = try filter.export("PFC", seccomp_export_pfc)
    return String(decoding: text, as: UTF8.self)
  }
}

/// One libseccomp context built from a config; owns the context until `release`.
struct SeccompFilter {
  let ctx: scmp_filter_ctx
  var flags: UInt32 = 0
  var needsListener = false
  var skipped: [String] = []

  /// Product of same-index alternatives above which a rule is refused; the
  /// spec's OR-within-an-index semantics multiply rules, and a typo should
  /// not turn into a filter the kernel cannot load (4096 instructions max).
  static let maxExpandedRules = 256

  init(_ config: LinuxSeccomp) throws(SeccompError) {
    let field = "linux.seccomp"
    if let problem = SpecValidator.seccompProblem(config) { throw SeccompError(field: problem.field, problem.text) }
    let defaultAction = try Self.action(
      config.defaultAction, errnoRet: config.defaultErrnoRet, field: "\(field).defaultAction",
      errnoField: "\(field).defaultErrnoRet")
    var usesNotify = config.defaultAction == SeccompAction.SCMP_ACT_NOTIFY.rawValue

    // Resolve everything that can fail on names before touching libseccomp,
    // so bad input never needs a half-built context cleaned up.
    var architectures: [(name: String, token: UInt32)] = []
    for (i, name) in (config.architectures ?? []).enumerated() {
      guard let token = SeccompTables.resolveArchitecture(name) else {
        throw SeccompError(field: "\(field).architectures[\(i)]", "unknown architecture \(jsonQuote(name))")
      }
      architectures.append((name, token))
    }

    var flagBits: UInt32 = 0
    for (i, name) in (config.flags ?? []).enumerated() {
      guard let entry = SeccompTables.flags.first(where: { $0.name == name }) else {
        let known = SeccompTables.flags.map(\.name).joined(separator: ", ")
        throw SeccompError(field: "\(field).flags[\(i)]", "unknown flag \(jsonQuote(name)); known flags: \(known)")
      }
      guard SeccompTables.kernelSupports(flag: entry.bit) else {
        throw SeccompError(
          field: "\(field).flags[\(i)]", "\(name) is not supported by this kernel; remove it from the config")
      }
      flagBits |= entry.bit
    }

    var rules: [PlannedRule] = []
    for (i, rule) in (config.syscalls ?? []).enumerated() {
      let ruleField = "\(field).syscalls[\(i)]"
      let action = try Self.action(
        rule.action, errnoRet: rule.errnoRet, field: "\(ruleField).action", errnoField: "\(ruleField).errnoRet")
      if rule.action == SeccompAction.SCMP_ACT_NOTIFY.rawValue { usesNotify = true }
      let conditions = try Self.conditions(rule.args ?? [], field: ruleField)
      rules.append(PlannedRule(index: i, names: rule.names, action: action, conditions: conditions))
    }

    // WAIT_KILLABLE_RECV only changes how a notifying syscall waits; without a
    // listener the kernel refuses the flag outright, so drop it there.
    if !usesNotify { flagBits &= ~SeccompTables.FilterFlag.waitKillableRecv }

    guard let ctx = seccomp_init(defaultAction) else {
      throw SeccompError(
        field: "\(field).defaultAction",
        "libseccomp refused \(jsonQuote(config.defaultAction)) (the kernel or libseccomp \(Self.libraryVersion) lacks it)"
      )
    }
    self.ctx = ctx
    self.flags = flagBits
    self.needsListener = usesNotify
    do throws(SeccompError) {
      try configure(flagBits: flagBits)
      for (i, arch) in architectures.enumerated() {
        let rc = seccomp_arch_add(ctx, arch.token)
        // The native architecture is always present already.
        if rc != 0 && rc != -EEXIST {
          throw SeccompError(
            field: "\(field).architectures[\(i)]", "adding \(arch.name): \(ErrorText.errno(-rc))")
        }
      }
      for rule in rules where rule.action != defaultAction {
        // libseccomp refuses a rule that repeats the default action; it would
        // change nothing anyway.
        try add(rule, field: "\(field).syscalls[\(rule.index)]")
      }
    } catch {
      seccomp_release(ctx)
      throw error
    }
  }

  func release() { seccomp_release(ctx) }

  /// Filter attributes. None of them changes the exported BPF except the
  /// optimiser; the rest describe how libseccomp would load, and we load
  /// ourselves, but keeping them truthful keeps the PFC header honest.
  private func configure(flagBits: UInt32) throws(SeccompError) {
    // The runtime sets no_new_privs itself, according to process.noNewPrivileges.
    try attribute(SCMP_FLTATR_CTL_NNP, 0, "no_new_privs")
    // The container's init is single-threaded when it loads the filter.
    try attribute(SCMP_FLTATR_CTL_TSYNC, 0, "thread sync")
    // A binary tree of syscall numbers: long allow-lists cost O(log n) per syscall.
    try attribute(SCMP_FLTATR_CTL_OPTIMIZE, 2, "binary tree optimisation")
    // Report the kernel's errno from libseccomp calls rather than a generic one.
    try attribute(SCMP_FLTATR_API_SYSRAWRC, 1, "raw return codes")
    if flagBits & SeccompTables.FilterFlag.log != 0 {
      try attribute(SCMP_FLTATR_CTL_LOG, 1, "SECCOMP_FILTER_FLAG_LOG")
    }
    if flagBits & SeccompTables.FilterFlag.specAllow != 0 {
      try attribute(SCMP_FLTATR_CTL_SSB, 1, "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
    }
  }

  private func attribute(_ attr: scmp_filter_attr, _ value: UInt32, _ what: String) throws(SeccompError) {
    let rc = seccomp_attr_set(ctx, attr, value)
    if rc != 0 {
      throw SeccompError("seccomp: setting the \(what) attribute: \(ErrorText.errno(-rc))")
    }
  }

  private mutating func add(_ rule: PlannedRule, field: String) throws(SeccompError) {
    for name in rule.names {
      let number = seccomp_syscall_resolve_name(name)
      if number == __NR_SCMP_ERROR {
        if !skipped.contains(name) { skipped.append(name) }
        continue
      }
      for conditions in rule.conditions {
        let rc = conditions.withUnsafeBufferPointer { buf in
          seccomp_rule_add_array(ctx, rule.action, number, UInt32(buf.count), buf.baseAddress)
        }
        if rc != 0 {
          throw SeccompError(field: field, "adding the rule for \(jsonQuote(name)): \(ErrorText.errno(-rc))")
        }
      }
    }
  }

  /// Writes the filter to a memfd with libseccomp and reads it back (the
  /// export functions only write to file descriptors, and a pipe could fill).
  func export(_ what: String, _ exporter: (scmp_filter_ctx?, Int32) -> Int32) throws(SeccompError) -> [UInt8] {
    let memfd = cella_seccomp_memfd()
    if memfd < 0 { throw SeccompError("seccomp: memfd_create for the \(what) export: \(ErrorText.errno(errno))") }
    let file = FileDescriptor(adopting: memfd)
    let fd = file.rawValue
    let rc = exporter(ctx, fd)
    if rc != 0 { throw SeccompError("seccomp: exporting \(what): \(ErrorText.errno(-rc))") }
    let size = lseek(fd, 0, SEEK_CUR)
    if size < 0 || lseek(fd, 0, SEEK_SET) != 0 {
      throw SeccompError("seccomp: rewinding the \(what) export: \(ErrorText.errno(errno))")
    }
    var bytes = [UInt8](repeating: 0, count: Int(size))
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { throw SeccompError("seccomp: reading the \(what) export back: \(ErrorText.errno(errno))") }
      done += n
    }
    return bytes
  }

  /// The kernel action value for a spec action name plus its errnoRet.
  static func action(_ name: String, errnoRet: UInt32?, field: String, errnoField: String) throws(SeccompError)
    -> UInt32
  {
    guard let known = SeccompAction(rawValue: name) else {
      throw SeccompError(field: field, "unknown action \(jsonQuote(name))")
    }
    let base = SeccompTables.value(of: known)
    switch name {
    case "SCMP_ACT_ERRNO":
      let code = errnoRet ?? UInt32(EPERM)
      // The kernel returns -data; beyond 4095 libc no longer reads it as an error.
      guard code <= 4095 else { throw SeccompError(IntegerRange.error(errnoField, code, 0...UInt32(4095)).message) }
      return base | code
    case "SCMP_ACT_TRACE":
      // The trace value is what the tracer reads with PTRACE_GETEVENTMSG; EPERM
      // when unset, as other runtimes do.
      let code = errnoRet ?? UInt32(EPERM)
      guard code <= 0xFFFF else { throw SeccompError(IntegerRange.error(errnoField, code, 0...UInt32(0xFFFF)).message) }
      return base | code
    default:
      if errnoRet != nil {
        throw SeccompError(field: errnoField, "is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not \(name)")
      }
      return base
    }
  }

  /// The condition sets one spec rule expands to. Args with different indexes
  /// must all hold (AND, one libseccomp rule); args sharing an index are
  /// alternatives (OR), which libseccomp can only express as separate rules,
  /// so the result is every combination of one arg per index.
  static func conditions(_ args: [LinuxSeccompArg], field: String) throws(SeccompError) -> [[scmp_arg_cmp]] {
    var byIndex: [(index: UInt32, compares: [scmp_arg_cmp])] = []
    for (j, arg) in args.enumerated() {
      let argField = "\(field).args[\(j)]"
      guard SpecValidator.seccompArgIndexes.contains(arg.index) else {
        throw SeccompError(IntegerRange.error("\(argField).index", arg.index, SpecValidator.seccompArgIndexes).message)
      }
      guard let known = SeccompOperator(rawValue: arg.op) else {
        throw SeccompError(field: "\(argField).op", "unknown operator \(jsonQuote(arg.op))")
      }
      let op = SeccompTables.compare(known)
      // For MASKED_EQ the spec's value is the mask and valueTwo the expected
      // result, which is libseccomp's datum_a/datum_b order.
      let compare = scmp_arg_cmp(
        arg: arg.index, op: op, datum_a: arg.value, datum_b: op == SCMP_CMP_MASKED_EQ ? (arg.valueTwo ?? 0) : 0)
      if let k = byIndex.firstIndex(where: { $0.index == arg.index }) {
        byIndex[k].compares.append(compare)
      } else {
        byIndex.append((arg.index, [compare]))
      }
    }
    var sets: [[scmp_arg_cmp]] = [[]]
    for group in byIndex {
      guard sets.count * group.compares.count <= maxExpandedRules else {
        throw SeccompError(
          field: "\(field).args",
          "alternatives on the same argument index expand to more than \(maxExpandedRules) rules; split the rule")
      }
      sets = sets.flatMap { prefix in group.compares.map { prefix + [$0] } }
    }
    return sets
  }

  static var libraryVersion: String {
    guard let v = seccomp_version() else { return "?" }
    return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
  }
}

private struct PlannedRule {
  let index: Int
  let names: [String]
  let action: UInt32
  let conditions: [[scmp_arg_cmp]]
}
