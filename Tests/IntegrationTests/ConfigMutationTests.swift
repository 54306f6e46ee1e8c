import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// `create` over a few hundred deterministic mutations of a valid config: no input may trap the
/// runtime, a refusal is one error line naming a field or path, and nothing is left behind.
final class ConfigMutationTests: RuntimeTestCase {
  func testDeviceNumbersOutsideUInt32AreOneErrorLineNotATrap() throws {
    for major in ["-1", "1099511627776"] {
      let b = try env.bundle(["true"])
      b.editLinux { $0["devices"] = [["type": "c", "path": "/dev/cella-t", "major": 0, "minor": 1]] }
      try b.write()
      // JSONSerialization cannot write the number we want verbatim; patch the text.
      let text = try String(contentsOfFile: b.configPath, encoding: .utf8)
        .replacingOccurrences(of: "\"major\" : 0", with: "\"major\" : \(major)")
      try text.write(toFile: b.configPath, atomically: true, encoding: .utf8)
      let r = env.rt(["create", "-b", b.dir, env.newID()])
      assertOneErrorLine(r, contains: ["config.json: linux.devices[0].major: \(major) is out of range 0...4294967295"])
      assertStateRootEmpty()
    }
  }

  func testMutatedConfigsNeverTrapAndLeaveNothing() throws {
    let b = try env.bundle(["true"])
    b.editLinux {
      $0["devices"] = [["type": "c", "path": "/dev/cella-t-null", "major": 1, "minor": 3, "fileMode": 438]]
      $0["resources"] = [
        "devices": [["allow": false, "access": "rwm"]], "memory": ["limit": 67_108_864], "pids": ["limit": 64],
        "cpu": ["shares": 512],
      ]
    }
    b.editProcess {
      $0["rlimits"] = [["type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024]]
      $0["user"] = ["uid": 0, "gid": 0, "umask": 18, "additionalGids": [1]]
      $0["consoleSize"] = ["height": 24, "width": 80]
    }
    try b.write()
    let base = try MiniJSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: b.configPath))))
    let paths = base.paths()
    var rng = SplitMix64(seed: 0xCE11A)
    var problems: [String] = []
    var created = 0
    let started = Date()
    let mutationCount = 250
    for i in 0..<mutationCount {
      let path = paths[Int(rng.next() % UInt64(paths.count))]
      let (mutated, what) = base.mutating(at: path[...], rng: &rng)
      try mutated.text().write(toFile: b.configPath, atomically: true, encoding: .utf8)
      let id = "cella-t-mut\(i)-\(TestEnvironment.randomSuffix(4))"
      let label = "#\(i) \(MiniJSON.describe(path)) \(what)"
      let r = env.rt(["create", "-b", b.dir, id], timeout: 20)
      if r.status >= 128 {
        problems.append("\(label): create ended with \(r.status) (signal \(r.status - 128)): \(r.stderr.prefix(300))")
      } else if r.status == 0 {
        created += 1
        let d = env.rt(["delete", "--force", id])
        if d.status != 0 { problems.append("\(label): delete --force after a successful create failed: \(d)") }
      } else {
        let lines = r.stderrLines
        if lines.count != 1 || !lines[0].hasPrefix("cella-runtime: error: ") {
          problems.append("\(label): expected one error line, got: \(r.stderr.prefix(400))")
        } else if !Self.namesTheMutation(lines[0], path: path, base: base, mutated: mutated) {
          problems.append("\(label): the error names neither the field nor a path it holds: \(lines[0])")
        }
      }
      problems += leftovers(id).map { "\(label): left behind: \($0)" }
    }
    XCTAssertTrue(
      problems.isEmpty,
      "\(problems.count) of \(mutationCount) mutations broke a rule:\n" + problems.prefix(25).joined(separator: "\n"))
    // A sanity check on the generator: some mutations keep the config valid, most do not.
    XCTAssertGreaterThan(created, 0)
    XCTAssertLessThan(Date().timeIntervalSince(started), 90, "the mutation run should stay near a minute")
  }

  /// Whether an error line names the mutated field (its key, or the array's key for an element) or a
  /// path the field holds before or after the mutation.
  static func namesTheMutation(_ line: String, path: [MiniJSON.Step], base: MiniJSON, mutated: MiniJSON) -> Bool {
    let key = path.reversed().lazy.compactMap { step -> String? in
      if case .key(let k) = step { return k }
      return nil
    }.first
    if let key, line.contains(key) { return true }
    for tree in [base, mutated] {
      if case .string(let value)? = tree.value(at: path[...]), value.contains("/"), line.contains(value.prefix(60)) {
        return true
      }
    }
    return false
  }

  /// What a create (or its delete) left: state, mounts, processes in the rootfs, the cgroup.
  private func leftovers(_ id: String) -> [String] {
    var found: [String] = []
    let state = env.stateEntries()
    if !state.isEmpty { found.append("state \(state)") }
    let mounts = env.leakedMounts()
    if !mounts.isEmpty { found.append("mounts \(mounts)") }
    let pids = env.processesInRootfs()
    if !pids.isEmpty { found.append("processes \(pids)") }
    let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
    for h in hierarchies where FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(h)/cella/\(id)") {
      found.append("cgroup /sys/fs/cgroup/\(h)/cella/\(id)")
    }
    // Clean up so one failure does not cascade into every later mutation.
    for id in state { env.rt(["delete", "--force", id]) }
    return found
  }
}

/// A deterministic PRNG (SplitMix64), so a failing mutation number reproduces.
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func pick<T>(_ choices: [T]) -> T { choices[Int(next() % UInt64(choices.count))] }
}

/// A JSON tree that keeps number text and key order and can hold a duplicate key, which
/// Foundation's JSONSerialization can neither read back nor write.
indirect enum MiniJSON {
  case null
  case bool(Bool)
  case number(String)
  case string(String)
  case array([MiniJSON])
  case object([(String, MiniJSON)])

  /// One step of a path: an object key or an array index.
  enum Step: CustomStringConvertible {
    case key(String)
    case index(Int)
    var description: String {
      switch self {
      case .key(let k): return k
      case .index(let i): return "[\(i)]"
      }
    }
  }

  static func describe(_ path: [Step]) -> String {
    path.map { step in
      if case .key(let k) = step { return ".\(k)" }
      return step.description
    }.joined().drop { $0 == "." }.description
  }

  /// The value at `path`, if there is one.
  func value(at path: ArraySlice<Step>) -> MiniJSON? {
    guard let step = path.first else { return self }
    switch (self, step) {
    case (.object(let members), .key(let key)):
      return members.last { $0.0 == key }?.1.value(at: path.dropFirst())
    case (.array(let items), .index(let i)) where i < items.count:
      return items[i].value(at: path.dropFirst())
    default:
      return nil
    }
  }

  /// Every path in the tree (the root excluded).
  func paths(prefix: [Step] = []) -> [[Step]] {
    switch self {
    case .array(let items):
      return items.enumerated().flatMap { i, v in [prefix + [.index(i)]] + v.paths(prefix: prefix + [.index(i)]) }
    case .object(let members):
      return members.flatMap { k, v in [prefix + [.key(k)]] + v.paths(prefix: prefix + [.key(k)]) }
    default:
      return []
    }
  }

  /// The tree with the value at `path` mutated (or removed, or its key duplicated), and what was done.
  func mutating(at path: ArraySlice<Step>, rng: inout SplitMix64) -> (MiniJSON, String) {
    guard let step = path.first else { return (self, "") }
    let rest = path.dropFirst()
    switch (self, step) {
    case (.object(var members), .key(let key)):
      guard let i = members.firstIndex(where: { $0.0 == key }) else { return (self, "") }
      if rest.isEmpty {
        switch rng.next() % 8 {
        case 0:
          members.remove(at: i)
          return (.object(members), "deleted")
        case 1:
          let (value, what) = members[i].1.replaced(rng: &rng)
          // The last of two equal keys wins; put the mutated one last or first.
          if rng.next() % 2 == 0 {
            members.insert((key, value), at: i + 1)
            return (.object(members), "duplicated, second \(what)")
          }
          members.insert((key, value), at: i)
          return (.object(members), "duplicated, first \(what)")
        default:
          let (value, what) = members[i].1.replaced(rng: &rng)
          members[i].1 = value
          return (.object(members), what)
        }
      }
      let (inner, what) = members[i].1.mutating(at: rest, rng: &rng)
      members[i].1 = inner
      return (.object(members), what)
    case (.array(var items), .index(let i)):
      if rest.isEmpty {
        switch rng.next() % 6 {
        case 0:
          items.remove(at: i)
          return (.array(items), "deleted")
        case 1:
          items.insert(items[i], at: i)
          return (.array(items), "duplicated")
        default:
          let (value, what) = items[i].replaced(rng: &rng)
          items[i] = value
          return (.array(items), what)
        }
      }
      let (inner, what) = items[i].mutating(at: rest, rng: &rng)
      items[i] = inner
      return (.array(items), what)
    default:
      return (self, "")
    }
  }

  /// A replacement for this value: an edge of its own kind, or another kind altogether.
  func replaced(rng: inout SplitMix64) -> (MiniJSON, String) {
    let numbers = [
      "-1", "-2147483649", "4294967295", "4294967296", "1099511627776", "9223372036854775807",
      "18446744073709551616", "1.5", "-0.5", "1e400", "-9223372036854775809", "0",
    ]
    let longText = String(repeating: "a", count: 5000)
    let strings = ["", longText, "/" + longText, "a\u{0}b", "line\nbreak", "/tmp/a\u{0}", "../../..", "\u{7F}\u{1}"]
    let others: [MiniJSON] = [.null, .bool(true), .number("7"), .string("x"), .array([]), .object([])]
    switch self {
    case .number where rng.next() % 4 != 0:
      let n = rng.pick(numbers)
      return (.number(n), "number \(n)")
    case .string(let s) where rng.next() % 4 != 0:
      let t = rng.pick(strings)
      // Keep the original as a prefix now and then, so the value still looks like a path or name.
      let value = rng.next() % 2 == 0 ? s + t : t
      return (.string(value), "string \(value.debugDescription.prefix(40))")
    case .array(let items) where rng.next() % 3 == 0 && !items.isEmpty:
      return (.array(items + items), "array doubled")
    default:
      let v = rng.pick(others)
      return (v, "replaced by \(v.text().prefix(20))")
    }
  }

  func text() -> String {
    switch self {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let n): return n
    case .string(let s): return Self.quote(s)
    case .array(let items): return "[" + items.map { $0.text() }.joined(separator: ",") + "]"
    case .object(let members):
      return "{" + members.map { Self.quote($0.0) + ":" + $0.1.text() }.joined(separator: ",") + "}"
    }
  }

  static func quote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          out += String(format: "\\u%04x", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }

  /// A small strict parser for the harness's own (valid) config files.
  static func parse(_ bytes: [UInt8]) throws -> MiniJSON {
    var i = 0
    let value = try parseValue(bytes, &i)
    return value
  }

  private static func skip(_ b: [UInt8], _ i: inout Int) {
    while i < b.count, [0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 }
  }

  private static func parseValue(_ b: [UInt8], _ i: inout Int) throws -> MiniJSON {
    skip(b, &i)
    guard i < b.count else { throw HarnessError("MiniJSON: unexpected end") }
    switch b[i] {
    case UInt8(ascii: "{"):
      i += 1
      var members: [(String, MiniJSON)] = []
      skip(b, &i)
      if b[i] == UInt8(ascii: "}") {
        i += 1
        return .object([])
      }
      while true {
        skip(b, &i)
        guard case .string(let key) = try parseValue(b, &i) else { throw HarnessError("MiniJSON: key") }
        skip(b, &i)
        i += 1  // ':'
        members.append((key, try parseValue(b, &i)))
        skip(b, &i)
        let c = b[i]
        i += 1
        if c == UInt8(ascii: "}") { return .object(members) }
      }
    case UInt8(ascii: "["):
      i += 1
      var items: [MiniJSON] = []
      skip(b, &i)
      if b[i] == UInt8(ascii: "]") {
        i += 1
        return .array([])
      }
      while true {
        items.append(try parseValue(b, &i))
        skip(b, &i)
        let c = b[i]
        i += 1
        if c == UInt8(ascii: "]") { return .array(items) }
      }
    case UInt8(ascii: "\""):
      i += 1
      var out: [UInt8] = []
      while b[i] != UInt8(ascii: "\"") {
        if b[i] == UInt8(ascii: "\\") {
          i += 1
          switch b[i] {
          case UInt8(ascii: "n"): out.append(0x0A)
          case UInt8(ascii: "t"): out.append(0x09)
          case UInt8(ascii: "u"):
            let hex = String(decoding: b[(i + 1)...(i + 4)], as: UTF8.self)
            out += Array(String(UnicodeScalar(UInt32(hex, radix: 16) ?? 0x3F) ?? "?").utf8)
            i += 4
          default: out.append(b[i])
          }
        } else {
          out.append(b[i])
        }
        i += 1
      }
      i += 1
      return .string(String(decoding: out, as: UTF8.self))
    case UInt8(ascii: "t"):
      i += 4
      return .bool(true)
    case UInt8(ascii: "f"):
      i += 5
      return .bool(false)
    case UInt8(ascii: "n"):
      i += 4
      return .null
    default:
      let start = i
      while i < b.count, "+-0123456789.eE".utf8.contains(b[i]) { i += 1 }
      return .number(String(decoding: b[start..<i], as: UTF8.self))
    }
  }
}
