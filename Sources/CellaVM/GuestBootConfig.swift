import CellaNet

/// What the guest agent needs to bring up a VM built from an image: written by the host as `/cella/guest.json`
/// in the guest's initramfs, read by the agent running as the VM's init.
public struct GuestBootConfig: Sendable, Equatable {
  /// One NIC, found in the guest by its MAC and configured statically.
  public struct NIC: Sendable, Equatable {
    /// Lowercase, colon-separated (`VMMAC.normalize`).
    public var mac: String
    /// `A.B.C.D/prefix`.
    public var address: String
    /// The default route's gateway; nil for none.
    public var gateway: String?

    public init(mac: String, address: String, gateway: String? = nil) {
      self.mac = mac
      self.address = address
      self.gateway = gateway
    }
  }

  public var hostname: String
  /// The guest's command (argv); a name without `/` is looked up in the PATH of `env`.
  public var command: [String]
  /// `KEY=value` words.
  public var env: [String]
  public var cwd: String
  public var uid: UInt32
  public var gid: UInt32
  /// The root filesystem's block device in the guest.
  public var rootDevice: String
  public var rootFSType: String
  public var nics: [NIC]
  /// Name servers for /etc/resolv.conf; empty leaves the root's file alone.
  public var dns: [String]
  /// The text of /etc/hosts; nil leaves the root's file alone.
  public var hosts: String?
  /// How many exec ports (`org.cella.agent.1…N`) the host attached.
  public var agentPorts: Int

  /// The default number of agent ports: how many execs can run at once.
  public static let defaultAgentPorts = 8
  /// The upper bound on agent ports (a virtio-serial device has 31 besides the console).
  public static let maxAgentPorts = 31

  public init(
    hostname: String, command: [String], env: [String] = [], cwd: String = "/", uid: UInt32 = 0, gid: UInt32 = 0,
    rootDevice: String = "/dev/vda", rootFSType: String = "ext4", nics: [NIC] = [], dns: [String] = [],
    hosts: String? = nil, agentPorts: Int = GuestBootConfig.defaultAgentPorts
  ) {
    self.hostname = hostname
    self.command = command
    self.env = env
    self.cwd = cwd
    self.uid = uid
    self.gid = gid
    self.rootDevice = rootDevice
    self.rootFSType = rootFSType
    self.nics = nics
    self.dns = dns
    self.hosts = hosts
    self.agentPorts = agentPorts
  }

  /// The JSON text the agent reads (`user` is `"uid:gid"`).
  public func encoded() -> [UInt8] {
    var members: [String: QMPValue] = [
      "hostname": .string(hostname), "command": .array(command.map { .string($0) }),
      "env": .array(env.map { .string($0) }), "cwd": .string(cwd), "user": .string("\(uid):\(gid)"),
      "root": .object(["device": .string(rootDevice), "fstype": .string(rootFSType)]),
      "nics": .array(
        nics.map { nic in
          var m: [String: QMPValue] = ["mac": .string(nic.mac), "address": .string(nic.address)]
          if let gateway = nic.gateway { m["gateway"] = .string(gateway) }
          return .object(m)
        }),
      "dns": .array(dns.map { .string($0) }), "agentPorts": .number(String(agentPorts)),
    ]
    if let hosts { members["hosts"] = .string(hosts) }
    return Array(QMPValue.object(members).json.utf8)
  }

  /// Parses and checks `bytes`; an error names `source` and the field (`guest.json: nics[0].mac: …`).
  public static func parse(_ bytes: [UInt8], source: String = "guest.json") throws(VMError) -> GuestBootConfig {
    let root: QMPValue
    do {
      root = try QMPValue.parse(bytes)
    } catch {
      throw VMError(.invalidArgument, "\(source): not JSON at column \(error.column): \(error.reason)")
    }
    let fields = ConfigFields(source: source)
    let hostname = try fields.string(root, "hostname")
    guard hostname.utf8.count <= 64, !hostname.isEmpty, !hostname.utf8.contains(0) else {
      throw fields.error("hostname", "\(String(reflecting: hostname)) is not a host name of 1…64 bytes")
    }
    let command = try fields.strings(root, "command")
    guard let first = command.first, !first.isEmpty else { throw fields.error("command", "is empty") }
    let env = try fields.strings(root, "env", optional: true)
    for (i, word) in env.enumerated() where !word.contains("=") || word.hasPrefix("=") {
      throw fields.error("env[\(i)]", "\(String(reflecting: word)) is not KEY=value")
    }
    let cwd = try fields.string(root, "cwd", optional: true) ?? "/"
    guard cwd.hasPrefix("/") else { throw fields.error("cwd", "\(String(reflecting: cwd)) is not absolute") }
    let (uid, gid) = try parseUser(try fields.string(root, "user", optional: true) ?? "0:0", fields: fields)
    guard let rootObject = root["root"], case .object = rootObject else {
      throw fields.error("root", "missing (an object with device and fstype)")
    }
    let device = try fields.string(rootObject, "device", prefix: "root.")
    guard device.hasPrefix("/dev/") else {
      throw fields.error("root.device", "\(String(reflecting: device)) is not a /dev path")
    }
    let fstype = try fields.string(rootObject, "fstype", prefix: "root.")
    var nics: [NIC] = []
    if let list = root["nics"] {
      guard case .array(let items) = list else { throw fields.error("nics", "is not an array") }
      for (i, item) in items.enumerated() {
        let field = "nics[\(i)]."
        let rawMAC = try fields.string(item, "mac", prefix: field)
        let mac = try VMMAC.normalize(rawMAC, field: "\(source): \(field)mac")
        let address = try fields.string(item, "address", prefix: field)
        guard parseCIDR(address) != nil else {
          throw fields.error(field + "address", "\(String(reflecting: address)) is not A.B.C.D/prefix")
        }
        let gateway = try fields.string(item, "gateway", optional: true, prefix: field)
        if let gateway, IPv4Address(gateway) == nil {
          throw fields.error(field + "gateway", "\(String(reflecting: gateway)) is not an IPv4 address")
        }
        nics.append(NIC(mac: mac, address: address, gateway: gateway))
      }
    }
    let dns = try fields.strings(root, "dns", optional: true)
    for (i, server) in dns.enumerated() where IPv4Address(server) == nil {
      throw fields.error("dns[\(i)]", "\(String(reflecting: server)) is not an IPv4 address")
    }
    let hosts = try fields.string(root, "hosts", optional: true)
    var ports = defaultAgentPorts
    if let value = root["agentPorts"] {
      guard let n = value.int, (0...maxAgentPorts).contains(n) else {
        throw fields.error("agentPorts", "\(value.json) is not a count of 0…\(maxAgentPorts)")
      }
      ports = n
    }
    return GuestBootConfig(
      hostname: hostname, command: command, env: env, cwd: cwd, uid: uid, gid: gid, rootDevice: device,
      rootFSType: fstype, nics: nics, dns: dns, hosts: hosts, agentPorts: ports)
  }

  /// `"uid:gid"` as two numbers.
  public static func parseUser(_ text: String, field: String = "user") throws(VMError) -> (UInt32, UInt32) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let uid = UInt32(parts[0]), let gid = UInt32(parts[1]) else {
      throw VMError(.invalidArgument, "\(field): \(String(reflecting: text)) is not UID:GID (numbers)")
    }
    return (uid, gid)
  }

  /// The address and prefix length of `A.B.C.D/N` (N in 1…32).
  public static func parseCIDR(_ text: String) -> (address: IPv4Address, prefixLength: Int)? {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let address = IPv4Address(parts[0]), let prefix = Int(parts[1]), (1...32).contains(prefix)
    else { return nil }
    return (address, prefix)
  }

  private static func parseUser(_ text: String, fields: ConfigFields) throws(VMError) -> (UInt32, UInt32) {
    try parseUser(text, field: "\(fields.source): user")
  }
}

/// Typed member access with errors that name the field.
private struct ConfigFields {
  let source: String

  func error(_ field: String, _ text: String) -> VMError {
    VMError(.invalidArgument, "\(source): \(field): \(text)")
  }

  func string(_ object: QMPValue, _ key: String, prefix: String = "") throws(VMError) -> String {
    guard let value = try string(object, key, optional: true, prefix: prefix) else {
      throw error(prefix + key, "missing")
    }
    return value
  }

  func string(_ object: QMPValue, _ key: String, optional: Bool, prefix: String = "") throws(VMError) -> String? {
    guard case .object = object else { throw error(String(prefix.dropLast()), "is not an object") }
    guard let value = object[key], value != .null else { return nil }
    guard let text = value.string else { throw error(prefix + key, "\(value.json) is not a string") }
    guard !text.utf8.contains(0) else { throw error(prefix + key, "contains a NUL byte") }
    return text
  }

  func strings(_ object: QMPValue, _ key: String, optional: Bool = false) throws(VMError) -> [String] {
    guard let value = object[key], value != .null else {
      if optional { return [] }
      throw error(key, "missing")
    }
    guard case .array(let items) = value else { throw error(key, "is not an array of strings") }
    var out: [String] = []
    for (i, item) in items.enumerated() {
      guard let text = item.string, !text.utf8.contains(0) else {
        throw error("\(key)[\(i)]", "\(item.json) is not a string without NUL bytes")
      }
      out.append(text)
    }
    return out
  }
}
