import CSeccomp
import CShims
import CellaOCI

/// What this build and kernel support, for `cella-runtime features`.
public enum SeccompFeatures {
  /// Spec action names the kernel implements (probed with SECCOMP_GET_ACTION_AVAIL).
  public static var actions: [String] {
    SeccompAction.allCases.filter { cella_seccomp_action_available(SeccompTables.value(of: $0)) == 0 }.map(\.rawValue)
  }

  /// Spec comparison operators; libseccomp implements all of them.
  public static var operators: [String] { SeccompOperator.allCases.map(\.rawValue) }

  /// Spec architecture names the installed libseccomp can resolve.
  public static var archs: [String] {
    SeccompTables.architectureNames.filter { SeccompTables.resolveArchitecture($0) != nil }
  }

  /// Filter flag names `compile` understands.
  public static var knownFlags: [String] { SeccompTables.flags.map(\.name) }

  /// Known flag names this kernel accepts (probed with seccomp(SECCOMP_SET_MODE_FILTER) and no program).
  public static var supportedFlags: [String] {
    SeccompTables.flags.filter { SeccompTables.kernelSupports(flag: $0.bit) }.map(\.name)
  }
}
