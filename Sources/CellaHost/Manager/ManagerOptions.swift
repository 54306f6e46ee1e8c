import CellaAPI

/// Where a manager keeps its store and finds its helpers.
public struct ManagerOptions: Sendable {
  public var stateDir: String
  public var socket: String
  /// The `cella-runtime` binary every guest is created with.
  public var runtimePath: String
  /// The `cella-keeper` binary.
  public var keeperPath: String
  /// `cella-nic`, the guests' NIC hook: beside the keeper.
  public var nicHookPath: String {
    (keeperPath.lastIndex(of: "/").map { String(keeperPath[..<$0]) } ?? ".") + "/cella-nic"
  }
  /// `cella-agent`, the static init and exec agent of VMs made from images: beside the keeper.
  public var agentPath: String {
    (keeperPath.lastIndex(of: "/").map { String(keeperPath[..<$0]) } ?? ".") + "/cella-agent"
  }
  /// The cgroup every guest's cgroup is made under (`CELLA_CGROUP_PARENT`, default `/cella`).
  public var cgroupParent: String
  /// The first delay of `boot.restart`'s back-off, doubled after each restart up to `maxRestartDelay`.
  public var restartDelay: Double = 0.5
  public var maxRestartDelay: Double = 60

  public init(stateDir: String, socket: String, runtimePath: String, keeperPath: String, cgroupParent: String) {
    self.stateDir = stateDir
    self.socket = socket
    self.runtimePath = runtimePath
    self.keeperPath = keeperPath
    self.cgroupParent = cgroupParent
  }

  /// The environment variable naming the cgroup parent.
  public static let cgroupParentVariable = "CELLA_CGROUP_PARENT"
  /// The environment variables naming the helper binaries (else: next to the `cella` executable).
  public static let runtimeVariable = "CELLA_RUNTIME"
  public static let keeperVariable = "CELLA_KEEPER"
  public static let defaultCgroupParent = "/cella"

  /// Options from flags (nil: not given), the environment and the directory of the `cella` binary.
  public static func resolve(
    stateDir: String?, socket: String?, environment: [String: String], executableDirectory: String
  ) -> ManagerOptions {
    func env(_ k: String) -> String? { environment[k].flatMap { $0.isEmpty ? nil : $0 } }
    return ManagerOptions(
      stateDir: stateDir ?? Endpoints.stateDir(environment: environment),
      socket: socket ?? Endpoints.socket(environment: environment),
      runtimePath: env(runtimeVariable) ?? executableDirectory + "/cella-runtime",
      keeperPath: env(keeperVariable) ?? executableDirectory + "/cella-keeper",
      cgroupParent: env(cgroupParentVariable) ?? defaultCgroupParent)
  }
}
