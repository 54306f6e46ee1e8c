import XCTest

@testable import CellaNet

final class NftRulesetTests: XCTestCase {
  /// One NAT network with one guest and one published port.
  static func small() throws -> NftModel {
    NftModel(
      networks: [.init(bridge: "cn1", subnet: try .parse("10.210.0.0/24"), nat: true, isolated: false)],
      ports: [
        .init(interface: "cv1", bridge: "cn1", mac: MACAddress([2, 0, 0, 0, 0, 2]), ipv4: try .parse("10.210.0.2"))
      ],
      published: [.init(proto: .tcp, hostPort: 8080, guestAddress: try .parse("10.210.0.2"), guestPort: 80)])
  }

  /// Two networks: an isolated NAT one with two guests, a routed one; a UDP port on one host address.
  static func two() throws -> NftModel {
    NftModel(
      networks: [
        .init(bridge: "cn1", subnet: try .parse("10.210.0.0/24"), nat: true, isolated: true),
        .init(bridge: "cn2", subnet: try .parse("10.210.1.0/24"), nat: false, isolated: false),
      ],
      ports: [
        .init(interface: "cv1", bridge: "cn1", mac: MACAddress([2, 0, 0, 0, 0, 2]), ipv4: try .parse("10.210.0.2")),
        .init(interface: "cv2", bridge: "cn1", mac: MACAddress([2, 0, 0, 0, 0, 3]), ipv4: try .parse("10.210.0.3")),
        .init(interface: "cv3", bridge: "cn2", mac: MACAddress([2, 0, 0, 0, 1, 2]), ipv4: try .parse("10.210.1.2")),
      ],
      published: [
        .init(
          proto: .udp, hostPort: 53, hostAddress: try .parse("192.0.2.5"), guestAddress: try .parse("10.210.1.2"),
          guestPort: 5353)
      ])
  }

  private func lines(_ model: NftModel) throws -> [String] {
    NftRuleset.document(try NftRuleset.build(model)).split(separator: "\n").map(String.init)
  }

  private func message(_ model: NftModel) -> String? {
    do {
      _ = try NftRuleset.build(model)
      return nil
    } catch {
      return error.message
    }
  }

  func testSmallModelGivesTheGoldenDocument() throws {
    XCTAssertEqual(NftRuleset.document(try NftRuleset.build(Self.small())), Self.golden)
  }

  func testReplacesOnlyCellasTablesAndNeverFlushes() throws {
    let commands = try lines(Self.two()).filter {
      !$0.hasPrefix("{\"add\":{\"rule\"") && !$0.hasPrefix("{\"add\":{\"chain\"")
        && !$0.hasPrefix("{\"add\":{\"set\"") && !$0.hasPrefix("{\"add\":{\"element\"")
    }
    XCTAssertEqual(
      commands,
      [
        "{\"nftables\":[",
        "{\"add\":{\"table\":{\"family\":\"inet\",\"name\":\"cella\"}}},",
        "{\"delete\":{\"table\":{\"family\":\"inet\",\"name\":\"cella\"}}},",
        "{\"add\":{\"table\":{\"family\":\"inet\",\"name\":\"cella\"}}},",
        "{\"add\":{\"table\":{\"family\":\"bridge\",\"name\":\"cella\"}}},",
        "{\"delete\":{\"table\":{\"family\":\"bridge\",\"name\":\"cella\"}}},",
        "{\"add\":{\"table\":{\"family\":\"bridge\",\"name\":\"cella\"}}},",
        "]}",
      ])
    XCTAssertFalse(NftRuleset.document(try NftRuleset.build(Self.two())).contains("flush"))
    XCTAssertEqual(
      NftRuleset.document(NftRuleset.removal()),
      """
      {"nftables":[
      {"add":{"table":{"family":"inet","name":"cella"}}},
      {"delete":{"table":{"family":"inet","name":"cella"}}},
      {"add":{"table":{"family":"bridge","name":"cella"}}},
      {"delete":{"table":{"family":"bridge","name":"cella"}}}
      ]}

      """)
  }

  func testForwardLetsAnswersAndPublishedPortsThroughAndNothingNewIntoNATOrBetweenBridges() throws {
    let rules = try lines(Self.two()).filter { $0.contains("\"chain\":\"forward\"") && $0.contains("\"inet\"") }
    let head = #"{"add":{"rule":{"family":"inet","table":"cella","chain":"forward","expr":["#
    XCTAssertEqual(
      rules,
      [
        head
          + #"{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}},{"accept":null}]}}},"#,
        head + #"{"match":{"op":"in","left":{"ct":{"key":"status"}},"right":"dnat"}},{"accept":null}]}}},"#,
        head
          + #"{"match":{"op":"!=","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"cn1"}},{"drop":null}]}}},"#,
        head
          + #"{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"cn1"}},{"drop":null}]}}},"#,
        head
          + #"{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"cn2"}},{"drop":null}]}}},"#,
        head
          + #"{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn2"}},{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"cn1"}},{"drop":null}]}}},"#,
      ])
    // A routed (no NAT) isolated network: its guests may not route to each other through the gateway.
    var routed = try Self.two()
    routed.networks[1].isolated = true
    XCTAssertTrue(
      try lines(routed).contains(
        head
          + #"{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn2"}},{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"cn2"}},{"drop":null}]}}},"#
      ))
  }

  func testGuestsReachOnlyDNSDHCPAndICMPOfTheirOwnGatewayAndGatewaysAnswerOnlyOnTheirBridge() throws {
    let rules = try lines(Self.two()).filter { $0.contains("\"chain\":\"input\"") && $0.contains("rule") }
    let cn2 = rules.filter { $0.contains("\"cn2\"") }
    XCTAssertEqual(cn2.count, 6, "\(cn2)")
    XCTAssertTrue(
      cn2[0].contains(
        #""right":"10.210.1.1"}},{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":{"set":[53,67]}}},{"accept":null}"#
      ), cn2[0])
    XCTAssertTrue(
      cn2[4].hasSuffix(#"{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn2"}},{"drop":null}]}}},"#),
      cn2[4])
    XCTAssertTrue(
      cn2[5].contains(
        #"{"match":{"op":"!=","left":{"meta":{"key":"iifname"}},"right":"cn2"}},{"match":{"op":"!=","left":{"meta":{"key":"iifname"}},"right":"lo"}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"10.210.1.1"}},{"drop":null}"#
      ), cn2[5])
    // A published port never catches what a guest sends its own gateway (its DNS).
    let dnat = try lines(Self.small()).first { $0.contains("\"chain\":\"prerouting\"") && $0.contains("dnat\":{") }
    XCTAssertTrue(
      dnat?.contains(
        #"{"match":{"op":"!=","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"10.210.0.1"}}"#) == true,
      dnat ?? "")
  }

  func testIsolatedNetworkDropsPortToPortAndOnlyNATNetworksMasquerade() throws {
    let all = try lines(Self.two())
    XCTAssertEqual(
      all.filter { $0.contains("\"chain\":\"forward\"") && $0.contains("\"bridge\"") && $0.contains("rule") },
      [
        #"{"add":{"rule":{"family":"bridge","table":"cella","chain":"forward","expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"@isolated_ports"}},{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"@isolated_ports"}},{"drop":null}]}}},"#
      ])
    // Only the ports of the isolated network are in the set.
    XCTAssertEqual(
      all.filter { $0.contains("\"name\":\"isolated_ports\"") && $0.contains("element") },
      [#"{"add":{"element":{"family":"bridge","table":"cella","name":"isolated_ports","elem":["cv1","cv2"]}}}"#])
    let masquerades = all.filter { $0.contains("masquerade") && $0.contains("saddr") }
    XCTAssertEqual(masquerades.count, 1)
    XCTAssertTrue(masquerades[0].contains(#"{"prefix":{"addr":"10.210.0.0","len":24}}"#))
  }

  func testAPortOnOneHostAddressMatchesThatAddressOnly() throws {
    let dnat = try lines(Self.two()).filter { $0.contains("dnat\":{") }
    let expected =
      #"{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"192.0.2.5"}},{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":53}},{"dnat":{"family":"ip","addr":"10.210.1.2","port":5353}}]}}},"#
    XCTAssertEqual(dnat.count, 2)
    XCTAssertTrue(dnat[0].contains(#""chain":"prerouting""#) && dnat[0].hasSuffix(expected), dnat[0])
    XCTAssertTrue(dnat[1].contains(#""chain":"output""#) && dnat[1].hasSuffix(expected), dnat[1])
  }

  func testAGuestsEntriesAreAddedAndDeletedWithoutReplacingTheTables() throws {
    let ports = try Self.two().ports
    let add = NftRuleset.document(NftRuleset.portElements("add", [ports[0]], isolatedBridges: ["cn1"]))
    XCTAssertEqual(
      add,
      """
      {"nftables":[
      {"add":{"element":{"family":"bridge","table":"cella","name":"guest_ports","elem":["cv1"]}}},
      {"add":{"element":{"family":"bridge","table":"cella","name":"guest_macs","elem":[{"concat":["cv1","02:00:00:00:00:02"]}]}}},
      {"add":{"element":{"family":"bridge","table":"cella","name":"guest_ips","elem":[{"concat":["cv1","10.210.0.2"]}]}}},
      {"add":{"element":{"family":"bridge","table":"cella","name":"isolated_ports","elem":["cv1"]}}}
      ]}

      """)
    let delete = NftRuleset.document(NftRuleset.portElements("delete", [ports[2]], isolatedBridges: ["cn1"]))
    XCTAssertFalse(delete.contains("isolated_ports"), delete)
    XCTAssertFalse(delete.contains("table\":{"), "never touches a table: \(delete)")
    XCTAssertEqual(delete.components(separatedBy: "{\"delete\":{\"element\"").count - 1, 3, delete)
    XCTAssertTrue(NftRuleset.portElements("add", [], isolatedBridges: []).isEmpty)
  }

  func testInconsistentModelsAreRefusedInOneLine() throws {
    var m = try Self.small()
    m.published.append(
      .init(
        proto: .tcp, hostPort: 8080, hostAddress: try .parse("192.0.2.5"), guestAddress: try .parse("10.210.0.3"),
        guestPort: 81))
    XCTAssertEqual(message(m), "tcp port 8080 is already published (to 10.210.0.2:80)")
    m = try Self.small()
    m.published.append(.init(proto: .udp, hostPort: 8080, guestAddress: try .parse("10.210.0.3"), guestPort: 81))
    XCTAssertNil(message(m))
    m.published.append(.init(proto: .udp, hostPort: 0, guestAddress: try .parse("10.210.0.3"), guestPort: 81))
    XCTAssertEqual(message(m), "host port 0: out of range 1-65535")
    m = try Self.small()
    m.published[0].hostAddress = try .parse("127.0.0.1")
    XCTAssertEqual(message(m), "tcp port 8080: host address 127.0.0.1 is a loopback address, which cannot be published")
    m = try Self.small()
    m.ports[0].bridge = "cn9"
    XCTAssertEqual(message(m), "guest port cv1: bridge cn9 is no cella network")
    m = try Self.small()
    m.ports[0].ipv4 = try .parse("10.9.0.2")
    XCTAssertEqual(message(m), "guest port cv1: address 10.9.0.2 is outside 10.210.0.0/24")
    m = try Self.small()
    m.ports[0].interface = "a-name-far-too-long"
    XCTAssertEqual(
      message(m), "interface name \"a-name-far-too-long\": must be 1-15 printable bytes without '/' or spaces")
  }

  func testStringsAreEscaped() {
    XCTAssertEqual(NftJSON.string("a\"b\\c\n\u{1}").text, #""a\"b\\c\n\u0001""#)
  }

  func testNftErrorsBecomeTheirFirstErrorLine() {
    let stderr = Array(
      "/dev/stdin:1:1-10: Error: Could not process rule: No such file or directory\n{\"x\"}\n^^^^\n".utf8)
    XCTAssertEqual(NftApplier.firstError(stderr, status: 1), "Could not process rule: No such file or directory")
    XCTAssertEqual(NftApplier.kind(stderr), .notFound)
    XCTAssertEqual(NftApplier.firstError([], status: 1), "exit status 1")
  }

  static let golden = """
    {"nftables":[
    {"add":{"table":{"family":"inet","name":"cella"}}},
    {"delete":{"table":{"family":"inet","name":"cella"}}},
    {"add":{"table":{"family":"inet","name":"cella"}}},
    {"add":{"table":{"family":"bridge","name":"cella"}}},
    {"delete":{"table":{"family":"bridge","name":"cella"}}},
    {"add":{"table":{"family":"bridge","name":"cella"}}},
    {"add":{"chain":{"family":"inet","table":"cella","name":"prerouting","type":"nat","hook":"prerouting","prio":-100,"policy":"accept"}}},
    {"add":{"chain":{"family":"inet","table":"cella","name":"output","type":"nat","hook":"output","prio":-100,"policy":"accept"}}},
    {"add":{"chain":{"family":"inet","table":"cella","name":"postrouting","type":"nat","hook":"postrouting","prio":100,"policy":"accept"}}},
    {"add":{"chain":{"family":"inet","table":"cella","name":"forward","type":"filter","hook":"forward","prio":0,"policy":"accept"}}},
    {"add":{"chain":{"family":"inet","table":"cella","name":"input","type":"filter","hook":"input","prio":0,"policy":"accept"}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"prerouting","expr":[{"match":{"op":"==","left":{"fib":{"result":"type","flags":["daddr"]}},"right":"local"}},{"match":{"op":"!=","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"10.210.0.1"}},{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":8080}},{"dnat":{"family":"ip","addr":"10.210.0.2","port":80}}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"output","expr":[{"match":{"op":"!=","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":{"prefix":{"addr":"127.0.0.0","len":8}}}},{"match":{"op":"==","left":{"fib":{"result":"type","flags":["daddr"]}},"right":"local"}},{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":8080}},{"dnat":{"family":"ip","addr":"10.210.0.2","port":80}}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"postrouting","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"prefix":{"addr":"10.210.0.0","len":24}}}},{"match":{"op":"!=","left":{"meta":{"key":"oifname"}},"right":"cn1"}},{"masquerade":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"postrouting","expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"cn1"}},{"match":{"op":"in","left":{"ct":{"key":"status"}},"right":"dnat"}},{"masquerade":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"forward","expr":[{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}},{"accept":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"forward","expr":[{"match":{"op":"in","left":{"ct":{"key":"status"}},"right":"dnat"}},{"accept":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"forward","expr":[{"match":{"op":"!=","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"cn1"}},{"drop":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"input","expr":[{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}},{"accept":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"input","expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"10.210.0.1"}},{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":{"set":[53,67]}}},{"accept":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"input","expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"10.210.0.1"}},{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":53}},{"accept":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"input","expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"255.255.255.255"}},{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":67}},{"accept":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"input","expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"match":{"op":"==","left":{"meta":{"key":"l4proto"}},"right":"icmp"}},{"accept":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"input","expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"drop":null}]}}},
    {"add":{"rule":{"family":"inet","table":"cella","chain":"input","expr":[{"match":{"op":"!=","left":{"meta":{"key":"iifname"}},"right":"cn1"}},{"match":{"op":"!=","left":{"meta":{"key":"iifname"}},"right":"lo"}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"10.210.0.1"}},{"drop":null}]}}},
    {"add":{"set":{"family":"bridge","table":"cella","name":"guest_ports","type":"ifname"}}},
    {"add":{"set":{"family":"bridge","table":"cella","name":"guest_macs","type":["ifname","ether_addr"]}}},
    {"add":{"set":{"family":"bridge","table":"cella","name":"guest_ips","type":["ifname","ipv4_addr"]}}},
    {"add":{"set":{"family":"bridge","table":"cella","name":"isolated_ports","type":"ifname"}}},
    {"add":{"chain":{"family":"bridge","table":"cella","name":"prerouting","type":"filter","hook":"prerouting","prio":-200,"policy":"accept"}}},
    {"add":{"chain":{"family":"bridge","table":"cella","name":"forward","type":"filter","hook":"forward","prio":-200,"policy":"accept"}}},
    {"add":{"chain":{"family":"bridge","table":"cella","name":"guest"}}},
    {"add":{"rule":{"family":"bridge","table":"cella","chain":"prerouting","expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"@guest_ports"}},{"jump":{"target":"guest"}}]}}},
    {"add":{"rule":{"family":"bridge","table":"cella","chain":"forward","expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"@isolated_ports"}},{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"@isolated_ports"}},{"drop":null}]}}},
    {"add":{"rule":{"family":"bridge","table":"cella","chain":"guest","expr":[{"match":{"op":"!=","left":{"concat":[{"meta":{"key":"iifname"}},{"payload":{"protocol":"ether","field":"saddr"}}]},"right":"@guest_macs"}},{"drop":null}]}}},
    {"add":{"rule":{"family":"bridge","table":"cella","chain":"guest","expr":[{"match":{"op":"!=","left":{"payload":{"protocol":"ether","field":"type"}},"right":{"set":["ip","arp"]}}},{"drop":null}]}}},
    {"add":{"rule":{"family":"bridge","table":"cella","chain":"guest","expr":[{"match":{"op":"!=","left":{"concat":[{"meta":{"key":"iifname"}},{"payload":{"protocol":"arp","field":"saddr ether"}}]},"right":"@guest_macs"}},{"drop":null}]}}},
    {"add":{"rule":{"family":"bridge","table":"cella","chain":"guest","expr":[{"match":{"op":"!=","left":{"payload":{"protocol":"arp","field":"saddr ip"}},"right":"0.0.0.0"}},{"match":{"op":"!=","left":{"concat":[{"meta":{"key":"iifname"}},{"payload":{"protocol":"arp","field":"saddr ip"}}]},"right":"@guest_ips"}},{"drop":null}]}}},
    {"add":{"rule":{"family":"bridge","table":"cella","chain":"guest","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"0.0.0.0"}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"255.255.255.255"}},{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"sport"}},"right":68}},{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":67}},{"accept":null}]}}},
    {"add":{"rule":{"family":"bridge","table":"cella","chain":"guest","expr":[{"match":{"op":"!=","left":{"concat":[{"meta":{"key":"iifname"}},{"payload":{"protocol":"ip","field":"saddr"}}]},"right":"@guest_ips"}},{"drop":null}]}}},
    {"add":{"element":{"family":"bridge","table":"cella","name":"guest_ports","elem":["cv1"]}}},
    {"add":{"element":{"family":"bridge","table":"cella","name":"guest_macs","elem":[{"concat":["cv1","02:00:00:00:00:02"]}]}}},
    {"add":{"element":{"family":"bridge","table":"cella","name":"guest_ips","elem":[{"concat":["cv1","10.210.0.2"]}]}}}
    ]}

    """
}
