import Foundation

/// An OCI bundle whose config.json the test edits as plain JSON.
final class TestBundle {
  let dir: String
  var config: [String: Any]

  var configPath: String { dir + "/config.json" }

  init(dir: String) throws {
    self.dir = dir
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))
    guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw HarnessError("\(dir)/config.json is not a JSON object")
    }
    config = obj
  }

  /// The cgroup parent of this bundle's containers (`<parent>/<id>`) while the test sets no
  /// cgroupsPath of its own; nil leaves cgroupsPath to the test (or to the runtime's default).
  var cgroupParent: String?
  /// The cgroupsPath the last `write` chose, to tell it from one the test set.
  private var chosenCgroupsPath: String?

  /// Writes config.json; a container-specific cgroupsPath under `cgroupParent` goes in first
  /// (named after `id`, or unique when the caller runs the runtime itself).
  func write(id: String? = nil) throws {
    if let cgroupParent {
      let current = (config["linux"] as? [String: Any])?["cgroupsPath"] as? String
      if current == nil || current == chosenCgroupsPath {
        let path = "\(cgroupParent)/\(id ?? "bundle-" + TestEnvironment.randomSuffix())"
        editLinux { $0["cgroupsPath"] = path }
        chosenCgroupsPath = path
      }
    }
    let data = try JSONSerialization.data(
      withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    try data.write(to: URL(fileURLWithPath: configPath))
  }

  /// Edits the object under `key` (created when missing).
  func edit(_ key: String, _ body: (inout [String: Any]) -> Void) {
    var sub = config[key] as? [String: Any] ?? [:]
    body(&sub)
    config[key] = sub
  }

  /// Leaves cgroupsPath out, so that the runtime puts the container under its default parent.
  func useRuntimeDefaultCgroupsPath() {
    cgroupParent = nil
    editLinux { $0.removeValue(forKey: "cgroupsPath") }
  }

  func editProcess(_ body: (inout [String: Any]) -> Void) { edit("process", body) }
  func editLinux(_ body: (inout [String: Any]) -> Void) { edit("linux", body) }

  func setArgs(_ args: [String]) { editProcess { $0["args"] = args } }

  /// `sh -c SCRIPT`.
  func setShell(_ script: String) { setArgs(["sh", "-c", script]) }

  func setRoot(_ path: String, readonly: Bool) {
    config["root"] = ["path": path, "readonly": readonly] as [String: Any]
  }

  func addMount(_ destination: String, type: String, source: String, options: [String] = []) {
    var mounts = config["mounts"] as? [[String: Any]] ?? []
    mounts.append(["destination": destination, "type": type, "source": source, "options": options])
    config["mounts"] = mounts
  }

  var namespaces: [[String: Any]] {
    get { (config["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]] ?? [] }
    set { editLinux { $0["namespaces"] = newValue } }
  }

  func addNamespace(_ type: String, path: String? = nil) {
    var entry: [String: Any] = ["type": type]
    if let path { entry["path"] = path }
    namespaces = namespaces.filter { $0["type"] as? String != type } + [entry]
  }

  func removeNamespace(_ type: String) {
    namespaces = namespaces.filter { $0["type"] as? String != type }
  }

  func addHook(_ point: String, path: String, args: [String]? = nil, timeout: Int? = nil) {
    var hooks = config["hooks"] as? [String: Any] ?? [:]
    var list = hooks[point] as? [[String: Any]] ?? []
    var hook: [String: Any] = ["path": path]
    if let args { hook["args"] = args }
    if let timeout { hook["timeout"] = timeout }
    list.append(hook)
    hooks[point] = list
    config["hooks"] = hooks
  }
}
