import CCap
import CShims
import CellaErrors
import CellaOCI
import CellaSys
import Glibc

/// The five capability sets of process.capabilities, as bit masks.
public struct CapabilityPlan: Sendable, Equatable {
  public var bounding: UInt64 = 0
  public var effective: UInt64 = 0
  public var permitted: UInt64 = 0
  public var inheritable: UInt64 = 0
  public var ambient: UInt64 = 0
  /// Capabilities named in the config that the host's own bounding set lacks; dropped with a warning.
  public var unavailable: [String] = []
  /// Ambient capabilities the config named outside permitted ∩ inheritable, which the kernel refuses
  /// to raise; left out (runc and crun skip them too), and logged by the caller.
  public var skippedAmbient: [String] = []

  public init() {}
}

/// A capability name the config used wrongly, as one line naming the field.
public struct CapabilityError: KindedError {
  public let kind: ErrorKind
  public let message: String

  /// A problem of the config unless `kind` says otherwise (a failed capset is `system`).
  public init(message: String, kind: ErrorKind = .invalidArgument) {
    self.kind = kind
    self.message = ErrorText.oneLine(message)
  }
}

/// Resolves capability names with libcap (in the parent) and applies sets with capset/prctl (in the child).
public enum Capabilities {
  /// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap); the sets are
  /// 64-bit masks, so a value outside 0...63 (unreadable or odd /proc) falls back to 40.
  public static let lastCap: Int = {
    guard let text = try? FileIO.readString("/proc/sys/kernel/cap_last_cap"),
      let n = Int(text.trimmingCharacters(in: " \n")), (0...63).contains(n)
    else { return 40 }
    return n
  }()

  /// Resolves "CAP_NET_ADMIN" (any case, with or without CAP_) to its number; nil if libcap does not know it.
  public static func number(_ name: String) -> Int? {
    var value: cap_value_t = 0
    var lower = name.lowercased()
    if !lower.hasPrefix("cap_") { lower = "cap_" + lower }
    guard cap_from_name(lower, &value) == 0, value >= 0 else { return nil }
    return Int(value)
  }

  /// Every capability name this kernel supports, uppercase (for `features`).
  public static func allNames() -> [String] {
    (0...lastCap).compactMap { n -> String? in
      guard let p = cap_to_name(cap_value_t(n)) else { return nil }
      defer { cap_free(p) }
      return String(cString: p).uppercased()
    }
  }

  /// The calling process's bounding set, read from /proc/self/status.
  public static func hostBounding() -> UInt64 {
    guard let text = try? FileIO.readString("/proc/self/status") else { return ~0 }
    for line in text.split(separator: "\n") where line.hasPrefix("CapBnd:") {
      return UInt64(line.dropFirst(7).trimmingCharacters(in: " \t"), radix: 16) ?? ~0
    }
    return ~0
  }

  /// Builds the plan from process.capabilities; unknown names are an error naming the field.
  public static func plan(_ caps: LinuxCapabilities?, hostBounding: UInt64 = hostBounding()) throws(CapabilityError)
    -> CapabilityPlan
  {
    var plan = CapabilityPlan()
    guard let caps else { return plan }
    func mask(_ names: [String]?, _ field: String) throws(CapabilityError) -> UInt64 {
      var bits: UInt64 = 0
      for (i, name) in (names ?? []).enumerated() {
        guard let n = number(name), n <= lastCap else {
          throw CapabilityError(
            message: "config.json: process.capabilities.\(field)[\(i)]: unknown capability \"\(name)\"")
        }
        if hostBounding & (1 << UInt64(n)) == 0 {
          if !plan.unavailable.contains(name.uppercased()) { plan.unavailable.append(name.uppercased()) }
          continue
        }
        bits |= 1 << UInt64(n)
      }
      return bits
    }
    plan.bounding = try mask(caps.bounding, "bounding")
    plan.effective = try mask(caps.effective, "effective")
    plan.permitted = try mask(caps.permitted, "permitted")
    plan.inheritable = try mask(caps.inheritable, "inheritable")
    plan.ambient = try mask(caps.ambient, "ambient")
    let raisable = plan.permitted & plan.inheritable
    for name in caps.ambient ?? [] {
      guard let n = number(name), plan.ambient & ~raisable & (1 << UInt64(n)) != 0 else { continue }
      if !plan.skippedAmbient.contains(name.uppercased()) { plan.skippedAmbient.append(name.uppercased()) }
    }
    plan.ambient &= raisable
    return plan
  }

  /// Drops every capability outside the bounding set (call while still privileged, before the uid switch).
  public static func applyBounding(_ plan: CapabilityPlan) throws(CapabilityError) {
    for cap in 0...lastCap where plan.bounding & (1 << UInt64(cap)) == 0 {
      if cella_prctl(24 /* PR_CAPBSET_DROP */, UInt(cap), 0, 0, 0) != 0 && errno != EINVAL {
        throw CapabilityError(
          message: "drop capability \(cap) from the bounding set: \(SysError.describe(errno))", kind: .system)
      }
    }
  }

  /// Sets effective, permitted and inheritable, then raises the ambient set (call after the uid switch).
  public static func applySets(_ plan: CapabilityPlan) throws(CapabilityError) {
    if cella_capset(plan.effective, plan.permitted, plan.inheritable) != 0 {
      throw CapabilityError(message: "process.capabilities: capset: \(SysError.describe(errno))", kind: .system)
    }
    _ = cella_prctl(47 /* PR_CAP_AMBIENT */, 4 /* CLEAR_ALL */, 0, 0, 0)
    for cap in 0...lastCap where plan.ambient & (1 << UInt64(cap)) != 0 {
      if cella_prctl(47, 2 /* RAISE */, UInt(cap), 0, 0) != 0 {
        throw CapabilityError(
          message:
            "process.capabilities.ambient: raise capability \(cap): \(SysError.describe(errno))"
        )
      }
    }
  }
}
