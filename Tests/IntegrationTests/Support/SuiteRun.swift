import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What one run of the suite owns on the host, so that its checks look at nothing else (another
/// container, another run): temp dirs with their state roots, a cgroup parent and a container-id
/// prefix, all named after a run id that Scripts/test.sh shares with its leak check (CELLA_TEST_RUN).
enum SuiteRun {
  static let id: String = {
    let given = ProcessInfo.processInfo.environment["CELLA_TEST_RUN"] ?? ""
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789")
    if !given.isEmpty && given.count <= 16 && given.allSatisfy({ allowed.contains($0) }) { return given }
    return TestEnvironment.randomSuffix()
  }()

  /// The prefix of every container id (and of the cgroup parent).
  static var idPrefix: String { "cella-t-\(id)" }
  /// Where containers go unless a test sets its own cgroupsPath.
  static var cgroupParent: String { "/\(idPrefix)" }
  /// The prefix of every network device a test makes: IFNAMSIZ leaves 15 characters, so "ct", six
  /// characters of the run id and a counter (Scripts/leak-check.sh looks for exactly these).
  static var netDevicePrefix: String { "ct\(id.prefix(6))" }
  /// The name of this run's network device number `n` (0...9_999_999).
  static func netDeviceName(_ n: Int) -> String { "\(netDevicePrefix)\(n)" }
  /// mkdtemp template of each test's directory (its state root is inside).
  static var tmpTemplate: String { "/tmp/cella-it-\(id)-XXXXXX" }
  /// The runtime's own parent for relative and empty cgroupsPaths; only tests of that default use it.
  static let runtimeDefaultParent = "/cella"

  /// Mount points of every cgroup hierarchy (v1 and cgroup2), each once.
  static let cgroupMounts: [String] = {
    guard let text = TestEnvironment.readProcFile("/proc/self/mountinfo") else { return [] }
    var mounts: [String] = []
    for line in text.split(separator: "\n") {
      guard let dash = line.range(of: " - ") else { continue }
      let fstype = line[dash.upperBound...].split(separator: " ").first ?? ""
      let fields = line[..<dash.lowerBound].split(separator: " ")
      guard fstype == "cgroup" || fstype == "cgroup2", fields.count > 4 else { continue }
      let point = TestEnvironment.unescapeMountField(String(fields[4]))
      if !mounts.contains(point) { mounts.append(point) }
    }
    return mounts
  }()

  /// The directories of the cgroup `path` in every hierarchy.
  static func cgroupDirectories(_ path: String) -> [String] { cgroupMounts.map { $0 + path } }

  /// Whether `path` is a directory.
  static func isDirectory(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
  }

  /// rmdir of `dir` and every cgroup below it, deepest first (cgroupfs refuses recursive removal).
  static func removeCgroupTree(_ dir: String) {
    for child in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where isDirectory("\(dir)/\(child)")
    {
      removeCgroupTree("\(dir)/\(child)")
    }
    rmdir(dir)
  }
}
