/// Builds cella's nftables tables from an `NftModel`, as the JSON `nft -j -f -` reads.
///
/// Cella owns exactly two tables, `inet cella` and `bridge cella`, and never touches another: each
/// rule set replaces both in one transaction (add table, which is a no-op if it exists; delete it; add
/// it again with its chains and rules), so the kernel swaps them atomically and no packet ever sees half
/// a rule set. Nothing here flushes the ruleset or names another table.
///
/// `inet cella`:
/// - `prerouting` / `output` (nat, dstnat priority -100): DNAT of published ports, for traffic arriving
///   from outside and for the host's own connections to its addresses (loopback excluded: DNAT from
///   127.0.0.0/8 to a bridge would need route_localnet on every bridge);
/// - `postrouting` (nat, srcnat priority 100): masquerade of NAT networks' traffic leaving by any device
///   but their bridge; masquerade of hairpin traffic (a guest reaching a published port that leads back
///   into its own bridge, whose answer must come back through the host);
/// - `forward` (filter priority 0, policy accept): answers and published ports pass; no new connection
///   into a NAT network, none routed back into an isolated one, none between two cella bridges;
/// - `input` (filter priority 0, policy accept): from a cella bridge only DNS and DHCP to its own gateway
///   and ICMP reach the host; a gateway address answers only on its own bridge.
///
/// `bridge cella` (filter priority -200):
/// - `prerouting` (every frame a guest port sends, whether switched to another port or delivered to the
///   host, which a `forward` chain alone would miss): frames from a guest port jump to `guest`, the
///   anti-spoofing: only IPv4 and ARP, only from the guest's MAC, ARP naming only the guest's MAC and
///   address (or 0.0.0.0, RFC 5227 probes), IPv4 only from the guest's address (or 0.0.0.0 to DHCP,
///   before a VM has its lease);
/// - `forward` (port-to-port switching only): isolated networks drop every frame between two guest ports.
/// Guest ports are elements of sets (`guest_ports`, `guest_macs` = port . MAC, `guest_ips` = port .
/// address, `isolated_ports`), not rules of their own: a frame costs one hashed lookup per check whatever
/// the number of guests, and a guest's start or end adds or deletes its elements in a small transaction
/// (`portElements`) instead of replacing the tables.
///
/// Coexisting with Docker (and any other owner of the FORWARD hook): netfilter runs every base chain
/// registered on a hook, in priority order, and a packet survives only if none of them drops it; an
/// `accept` ends the packet's walk through one base chain, never through the others. So when Docker
/// sets the policy of iptables' FORWARD chain (table `ip filter`, an iptables-nft base chain at
/// priority 0) to DROP, no rule in a cella table can let routed cella traffic (NAT to the outside,
/// published ports) through it, whatever its priority. Switched traffic inside one bridge is not
/// affected: without br_netfilter, bridged frames never reach the IPv4 forward hook. What works
/// (Docker's and Incus's documentation): Docker sets the policy only when it enables ip_forward itself,
/// so enabling net.ipv4.ip_forward before Docker starts (a sysctl.d file), or Docker 28's
/// `--ip-forward-no-drop`, avoids it; otherwise an accept for cella's bridges must live in Docker's
/// `DOCKER-USER` chain, which Docker reserves for the admin: that is the admin's call, not a rule cella
/// writes into a table it does not own. The manager should detect the DROP policy and say so in one line.
public enum NftRuleset {
  /// The name of both of cella's tables.
  public static let tableName = "cella"
  /// The families of cella's tables.
  public static let families = ["inet", "bridge"]

  /// The commands that replace cella's tables with those of `model`; refuses an inconsistent model in one line.
  public static func build(_ model: NftModel) throws(NetError) -> [NftJSON] {
    try check(model)
    if let owner = model.owner, owner.isEmpty || owner.utf8.count > maximumCommentLength {
      throw NetError(.invalidArgument, "table owner \"\(owner)\": must be 1 to \(maximumCommentLength) bytes")
    }
    var commands = replaceTables()
    commands += inetChains().map(add)
    commands += inetRules(model).map(add)
    commands += bridgeChains().map(add)
    commands += bridgeRules(model).map(add)
    commands += bridgeElements(model)
    if let owner = model.owner { commands += ownerMark(owner).map(add) }
    return commands
  }

  /// The regular (hookless) chain of `inet cella` whose one rule's comment names the tables' owner.
  public static let ownerChain = "owner"
  /// The longest comment nft keeps on a rule.
  public static let maximumCommentLength = 128

  /// The owner chain and its rule: `return` (never reached, no rule jumps there) with `owner` as comment.
  static func ownerMark(_ owner: String) -> [NftJSON] {
    let chain = NftJSON.object([
      ("chain", .object([("family", .string("inet")), ("table", .string(tableName)), ("name", .string(ownerChain))]))
    ])
    let mark = NftJSON.object([
      (
        "rule",
        .object([
          ("family", .string("inet")), ("table", .string(tableName)), ("chain", .string(ownerChain)),
          ("comment", .string(owner)), ("expr", .array([verdict("return")])),
        ])
      )
    ])
    return [chain, mark]
  }

  /// The commands that remove cella's tables (and only them), whether they exist or not.
  public static func removal() -> [NftJSON] {
    families.flatMap { family in [add(table(family)), command("delete", table(family))] }
  }

  /// The `nft -j -f -` document of `commands`, one command a line.
  public static func document(_ commands: [NftJSON]) -> String {
    "{\"nftables\":[\n" + commands.map(\.text).joined(separator: ",\n") + "\n]}\n"
  }

  // MARK: - Checks

  static func check(_ model: NftModel) throws(NetError) {
    var bridges: [String: NftModel.Network] = [:]
    for n in model.networks {
      try checkInterface(n.bridge)
      if bridges[n.bridge] != nil { throw NetError(.alreadyExists, "bridge \(n.bridge): two networks name it") }
      bridges[n.bridge] = n
    }
    for p in model.ports {
      try checkInterface(p.interface)
      guard let n = bridges[p.bridge] else {
        throw NetError(.invalidArgument, "guest port \(p.interface): bridge \(p.bridge) is no cella network")
      }
      guard n.subnet.contains(p.ipv4) else {
        throw NetError(.invalidArgument, "guest port \(p.interface): address \(p.ipv4) is outside \(n.subnet)")
      }
    }
    for (i, p) in model.published.enumerated() {
      let name = "\(p.proto.rawValue) port \(p.hostPort)"
      if p.hostPort == 0 { throw NetError(.invalidArgument, "host port 0: out of range 1-65535") }
      if p.guestPort == 0 { throw NetError(.invalidArgument, "\(name): guest port 0 is out of range 1-65535") }
      if let a = p.hostAddress, a.value >> 24 == 127 {
        throw NetError(.invalidArgument, "\(name): host address \(a) is a loopback address, which cannot be published")
      }
      for q in model.published[..<i]
      where q.proto == p.proto && q.hostPort == p.hostPort
        && (q.hostAddress == nil || p.hostAddress == nil || q.hostAddress == p.hostAddress)
      {
        throw NetError(.alreadyExists, "\(name) is already published (to \(q.guestAddress):\(q.guestPort))")
      }
    }
  }

  static func checkInterface(_ name: String) throws(NetError) {
    guard (1...15).contains(name.utf8.count), name != ".", name != "..",
      name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f && $0 != "/" })
    else {
      throw NetError(.invalidArgument, "interface name \"\(name)\": must be 1-15 printable bytes without '/' or spaces")
    }
  }

  // MARK: - Tables and chains

  static func replaceTables() -> [NftJSON] {
    families.flatMap { family in [add(table(family)), command("delete", table(family)), add(table(family))] }
  }

  static func table(_ family: String) -> NftJSON {
    .object([("table", .object([("family", .string(family)), ("name", .string(tableName))]))])
  }

  static func chain(_ family: String, _ name: String, type: String, hook: String, priority: Int) -> NftJSON {
    .object([
      (
        "chain",
        .object([
          ("family", .string(family)), ("table", .string(tableName)), ("name", .string(name)), ("type", .string(type)),
          ("hook", .string(hook)), ("prio", .int(priority)), ("policy", .string("accept")),
        ])
      )
    ])
  }

  static func inetChains() -> [NftJSON] {
    [
      chain("inet", "prerouting", type: "nat", hook: "prerouting", priority: -100),
      chain("inet", "output", type: "nat", hook: "output", priority: -100),
      chain("inet", "postrouting", type: "nat", hook: "postrouting", priority: 100),
      chain("inet", "forward", type: "filter", hook: "forward", priority: 0),
      chain("inet", "input", type: "filter", hook: "input", priority: 0),
    ]
  }

  static func bridgeChains() -> [NftJSON] {
    [
      namedSet(PortSet.ports), namedSet(PortSet.macs), namedSet(PortSet.addresses), namedSet(PortSet.isolated),
      chain("bridge", "prerouting", type: "filter", hook: "prerouting", priority: -200),
      chain("bridge", "forward", type: "filter", hook: "forward", priority: -200),
      .object([
        (
          "chain",
          .object([("family", .string("bridge")), ("table", .string(tableName)), ("name", .string(guestChain))])
        )
      ]),
    ]
  }

  /// The regular chain of `bridge cella` that checks a guest port's frames.
  static let guestChain = "guest"

  /// The sets of `bridge cella` that hold the guest ports, and the type of each.
  enum PortSet: String, CaseIterable {
    case ports = "guest_ports"
    case macs = "guest_macs"
    case addresses = "guest_ips"
    case isolated = "isolated_ports"

    var type: NftJSON {
      switch self {
      case .ports, .isolated: .string("ifname")
      case .macs: .array([.string("ifname"), .string("ether_addr")])
      case .addresses: .array([.string("ifname"), .string("ipv4_addr")])
      }
    }
    var reference: NftJSON { .string("@" + rawValue) }
  }

  static func namedSet(_ set: PortSet) -> NftJSON {
    .object([
      (
        "set",
        .object([
          ("family", .string("bridge")), ("table", .string(tableName)), ("name", .string(set.rawValue)),
          ("type", set.type),
        ])
      )
    ])
  }

  /// The commands that add (`verb` "add") or delete ("delete") the set elements of `ports`; a port whose
  /// bridge is in `isolatedBridges` also joins `isolated_ports`. Deleting an element that is not there
  /// fails the whole transaction, so a caller that is unsure replaces the tables instead.
  public static func portElements(_ verb: String, _ ports: [NftModel.GuestPort], isolatedBridges: Set<String>)
    -> [NftJSON]
  {
    if ports.isEmpty { return [] }
    func elements(_ set: PortSet, _ items: [NftJSON]) -> [NftJSON] {
      items.isEmpty
        ? []
        : [
          command(
            verb,
            .object([
              (
                "element",
                .object([
                  ("family", .string("bridge")), ("table", .string(tableName)), ("name", .string(set.rawValue)),
                  ("elem", .array(items)),
                ])
              )
            ]))
        ]
    }
    func pair(_ port: NftModel.GuestPort, _ value: String) -> NftJSON {
      .object([("concat", .array([.string(port.interface), .string(value)]))])
    }
    return elements(.ports, ports.map { .string($0.interface) })
      + elements(.macs, ports.map { pair($0, $0.mac.description) })
      + elements(.addresses, ports.map { pair($0, $0.ipv4.description) })
      + elements(.isolated, ports.filter { isolatedBridges.contains($0.bridge) }.map { .string($0.interface) })
  }

  static func rule(_ family: String, _ chain: String, _ expr: [NftJSON]) -> NftJSON {
    .object([
      (
        "rule",
        .object([
          ("family", .string(family)), ("table", .string(tableName)), ("chain", .string(chain)),
          ("expr", .array(expr)),
        ])
      )
    ])
  }

  static func command(_ verb: String, _ object: NftJSON) -> NftJSON { .object([(verb, object)]) }
  static func add(_ object: NftJSON) -> NftJSON { command("add", object) }

  // MARK: - Rules

  static func inetRules(_ model: NftModel) -> [NftJSON] {
    // Chain by chain, in the order nft lists them, so that `nft -j list` reads back the same sequence.
    var rules: [NftJSON] = []
    var output: [NftJSON] = []
    // A guest asking its own gateway (DNS) is never sent to a published port of the same number.
    let gateways = model.networks.map(\.gateway.description)
    let notToAGateway = gateways.isEmpty ? [] : [payload("ip", "daddr") != oneOrSet(gateways)]
    for p in model.published {
      let to = [payload(p.proto.rawValue, "dport") == .int(Int(p.hostPort)), dnat(p.guestAddress, p.guestPort)]
      if let a = p.hostAddress {
        let daddr = payload("ip", "daddr") == .string(a.description)
        rules.append(rule("inet", "prerouting", [daddr] + to))
        output.append(rule("inet", "output", [daddr] + to))
      } else {
        rules.append(rule("inet", "prerouting", [localDestination] + notToAGateway + to))
        output.append(rule("inet", "output", [payload("ip", "daddr") != prefix(loopback), localDestination] + to))
      }
    }
    rules += output
    for n in model.networks {
      if n.nat {
        rules.append(
          rule(
            "inet", "postrouting",
            [payload("ip", "saddr") == prefix(n.subnet), meta("oifname") != .string(n.bridge), verdict("masquerade")]))
      }
      rules.append(
        rule(
          "inet", "postrouting",
          [
            meta("iifname") == .string(n.bridge), meta("oifname") == .string(n.bridge), ctStatusDNAT,
            verdict("masquerade"),
          ]))
    }
    rules += forwardRules(model)
    rules += inputRules(model)
    return rules
  }

  /// `forward`: answers pass; published ports pass (whoever may reach the host may reach them); then no
  /// new connection into a NAT network from elsewhere (its guests are reached only through published
  /// ports, as behind a home router), none routed back into an isolated network (guests that route
  /// through the gateway instead of the bridge stay apart), none between two cella bridges. A `--no-nat`
  /// network is routed: the outside reaches its guests directly.
  static func forwardRules(_ model: NftModel) -> [NftJSON] {
    var rules = [
      rule("inet", "forward", [establishedOrRelated, verdict("accept")]),
      rule("inet", "forward", [ctStatusDNAT, verdict("accept")]),
    ]
    for n in model.networks {
      // Not "from the bridge to itself": where br_netfilter is loaded (Docker loads it), switched frames
      // between two guests pass this hook too, with the bridge as both devices.
      if n.nat {
        rules.append(
          rule(
            "inet", "forward",
            [meta("iifname") != .string(n.bridge), meta("oifname") == .string(n.bridge), verdict("drop")]))
      }
      if n.isolated {
        rules.append(
          rule(
            "inet", "forward",
            [meta("iifname") == .string(n.bridge), meta("oifname") == .string(n.bridge), verdict("drop")]))
      }
    }
    for n in model.networks {
      let others = model.networks.map(\.bridge).filter { $0 != n.bridge }
      if others.isEmpty { continue }
      rules.append(
        rule(
          "inet", "forward",
          [meta("iifname") == .string(n.bridge), meta("oifname") == oneOrSet(others), verdict("drop")]))
    }
    return rules
  }

  /// `input`: what guests may ask of the host itself — DNS and DHCP of their own gateway, ICMP — and
  /// nothing else (no host service, no other network's dnsmasq); a gateway address answers only on its
  /// own bridge (and to the host itself), so dnsmasq is never an open resolver on the host's uplinks.
  static func inputRules(_ model: NftModel) -> [NftJSON] {
    var rules = [rule("inet", "input", [establishedOrRelated, verdict("accept")])]
    for n in model.networks {
      let bridge = meta("iifname") == .string(n.bridge)
      let gateway = payload("ip", "daddr") == .string(n.gateway.description)
      rules += [
        rule(
          "inet", "input", [bridge, gateway, payload("udp", "dport") == set([.int(53), .int(67)]), verdict("accept")]),
        rule("inet", "input", [bridge, gateway, payload("tcp", "dport") == .int(53), verdict("accept")]),
        rule(
          "inet", "input",
          [
            bridge, payload("ip", "daddr") == .string("255.255.255.255"), payload("udp", "dport") == .int(67),
            verdict("accept"),
          ]),
        rule("inet", "input", [bridge, meta("l4proto") == .string("icmp"), verdict("accept")]),
        rule("inet", "input", [bridge, verdict("drop")]),
        rule(
          "inet", "input",
          [meta("iifname") != .string(n.bridge), meta("iifname") != .string("lo"), gateway, verdict("drop")]),
      ]
    }
    return rules
  }

  static func bridgeRules(_ model: NftModel) -> [NftJSON] {
    let port = meta("iifname")
    func concat(_ items: NftJSON...) -> NftJSON { .object([("concat", .array(items))]) }
    // Chain by chain, in the order nft lists them (prerouting, forward, guest).
    return [
      rule(
        "bridge", "prerouting",
        [port == PortSet.ports.reference, .object([("jump", .object([("target", .string(guestChain))]))])]),
      rule(
        "bridge", "forward",
        [port == PortSet.isolated.reference, meta("oifname") == PortSet.isolated.reference, verdict("drop")]),
      rule("bridge", guestChain, [concat(port, payload("ether", "saddr")) != PortSet.macs.reference, verdict("drop")]),
      rule("bridge", guestChain, [payload("ether", "type") != set([.string("ip"), .string("arp")]), verdict("drop")]),
      rule(
        "bridge", guestChain, [concat(port, payload("arp", "saddr ether")) != PortSet.macs.reference, verdict("drop")]),
      rule(
        "bridge", guestChain,
        [
          payload("arp", "saddr ip") != .string("0.0.0.0"),
          concat(port, payload("arp", "saddr ip")) != PortSet.addresses.reference, verdict("drop"),
        ]),
      rule(
        "bridge", guestChain,
        [
          payload("ip", "saddr") == .string("0.0.0.0"), payload("ip", "daddr") == .string("255.255.255.255"),
          payload("udp", "sport") == .int(68), payload("udp", "dport") == .int(67), verdict("accept"),
        ]),
      rule(
        "bridge", guestChain, [concat(port, payload("ip", "saddr")) != PortSet.addresses.reference, verdict("drop")]),
    ]
  }

  /// The elements of every port of `model`, added after the sets and rules.
  static func bridgeElements(_ model: NftModel) -> [NftJSON] {
    portElements(
      "add", model.ports, isolatedBridges: Set(model.networks.filter(\.isolated).map(\.bridge)))
  }

  // MARK: - Expressions, in the form `nft -j list` prints them

  static let loopback = IPv4Subnet(containing: IPv4Address(127, 0, 0, 0), prefixLength: 8)

  static func meta(_ key: String) -> NftJSON { .object([("meta", .object([("key", .string(key))]))]) }
  static func payload(_ proto: String, _ field: String) -> NftJSON {
    .object([("payload", .object([("protocol", .string(proto)), ("field", .string(field))]))])
  }
  static func prefix(_ s: IPv4Subnet) -> NftJSON {
    .object([("prefix", .object([("addr", .string(s.network.description)), ("len", .int(s.prefixLength))]))])
  }
  static func set(_ items: [NftJSON]) -> NftJSON { .object([("set", .array(items))]) }
  static func oneOrSet(_ names: [String]) -> NftJSON {
    names.count == 1 ? .string(names[0]) : set(names.map { .string($0) })
  }
  static func verdict(_ name: String) -> NftJSON { .object([(name, .null)]) }
  static func match(_ op: String, _ left: NftJSON, _ right: NftJSON) -> NftJSON {
    .object([("match", .object([("op", .string(op)), ("left", left), ("right", right)]))])
  }
  static func dnat(_ address: IPv4Address, _ port: UInt16) -> NftJSON {
    .object([
      ("dnat", .object([("family", .string("ip")), ("addr", .string(address.description)), ("port", .int(Int(port)))]))
    ])
  }
  static let localDestination = match(
    "==", .object([("fib", .object([("result", .string("type")), ("flags", .array([.string("daddr")]))]))]),
    .string("local"))
  static let ctStatusDNAT = match("in", .object([("ct", .object([("key", .string("status"))]))]), .string("dnat"))
  static let establishedOrRelated = match(
    "in", .object([("ct", .object([("key", .string("state"))]))]), .array([.string("established"), .string("related")]))
}

// In this file `left == right` and `left != right` on expressions build nft match expressions, so
// that rules read like nft's own syntax.
extension NftJSON {
  fileprivate static func == (left: NftJSON, right: NftJSON) -> NftJSON { NftRuleset.match("==", left, right) }
  fileprivate static func != (left: NftJSON, right: NftJSON) -> NftJSON { NftRuleset.match("!=", left, right) }
}
