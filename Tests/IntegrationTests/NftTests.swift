import CellaNet
import Foundation
import XCTest

/// Cella's nftables tables loaded by the real nft into a network namespace of the test's own, read back,
/// replaced and removed; the host's ruleset is only read, before and after.
final class NftTests: XCTestCase {
  private var tmp = ""
  private var namespace = ""
  private var applier: NftApplier!

  override func setUpWithError() throws {
    guard geteuid() == 0 else { throw SuiteConfiguration.skip("nft tests need root") }
    var template = Array(SuiteRun.tmpTemplate.utf8CString)
    guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
    }
    tmp = String(cString: dir)
    namespace = "\(SuiteRun.idPrefix)-nft"
    let add = ip(["netns", "add", namespace])
    XCTAssertEqual(add.status, 0, add.stderr)
    applier = try NftApplier(prefix: ["/usr/sbin/ip", "netns", "exec", namespace])
  }

  override func tearDownWithError() throws {
    if !namespace.isEmpty { _ = ip(["netns", "del", namespace]) }
    if !tmp.isEmpty { try? FileManager.default.removeItem(atPath: tmp) }
  }

  private func ip(_ args: [String]) -> CommandResult {
    Spawner.run("/usr/sbin/ip", args, outputDirectory: tmp)
  }

  private func hostRuleset() throws -> String {
    let nft = try NftApplier().nft
    let r = Spawner.run(nft, ["list", "ruleset"], outputDirectory: tmp)
    XCTAssertEqual(r.status, 0, r.stderr)
    return r.stdout
  }

  /// The rules of one of cella's tables as nft lists them: "chain: expr" with keys sorted.
  private func listedRules(_ family: String) throws -> [String] {
    let text = try applier.listTable(family: family)
    let doc = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    return (doc["nftables"] as! [[String: Any]]).compactMap { item -> String? in
      guard let rule = item["rule"] as? [String: Any] else { return nil }
      return "\(rule["chain"]!): \(canonical(rule["expr"]!))"
    }
  }

  /// The rules a rule set adds to a table, in the same form.
  private func sentRules(_ commands: [NftJSON], _ family: String) throws -> [String] {
    try commands.compactMap { command -> String? in
      let object = try JSONSerialization.jsonObject(with: Data(command.text.utf8)) as! [String: Any]
      guard let add = object["add"] as? [String: Any], let rule = add["rule"] as? [String: Any],
        rule["family"] as? String == family
      else { return nil }
      return "\(rule["chain"]!): \(canonical(rule["expr"]!))"
    }
  }

  private func canonical(_ value: Any) -> String {
    let data = try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
    return String(decoding: data, as: UTF8.self)
  }

  private func model() throws -> NftModel {
    NftModel(
      networks: [
        .init(bridge: "cn1", subnet: try .parse("10.210.0.0/24"), nat: true, isolated: true),
        .init(bridge: "cn2", subnet: try .parse("10.210.1.0/24"), nat: false, isolated: false),
      ],
      ports: [
        .init(
          interface: "cv1", bridge: "cn1", mac: .stableDefault(name: "web", nic: 0), ipv4: try .parse("10.210.0.2")),
        .init(interface: "cv2", bridge: "cn1", mac: .stableDefault(name: "db", nic: 0), ipv4: try .parse("10.210.0.3")),
        .init(
          interface: "cv3", bridge: "cn2", mac: .stableDefault(name: "app", nic: 0), ipv4: try .parse("10.210.1.2")),
      ],
      published: [
        .init(proto: .tcp, hostPort: 8080, guestAddress: try .parse("10.210.0.2"), guestPort: 80),
        .init(
          proto: .udp, hostPort: 53, hostAddress: try .parse("192.0.2.5"), guestAddress: try .parse("10.210.1.2"),
          guestPort: 53),
      ])
  }

  func testRulesetLoadsReadsBackAsBuiltIsReplacedAtomicallyAndRemovedLeavingTheHostAlone() throws {
    let hostBefore = try hostRuleset()
    var m = try model()
    let first = try NftRuleset.build(m)
    try applier.apply(first)
    for family in NftRuleset.families {
      XCTAssertEqual(try listedRules(family), try sentRules(first, family), family)
    }

    // Applying again replaces, it does not append.
    m.ports.removeLast()
    m.published.removeLast()
    let second = try NftRuleset.build(m)
    try applier.apply(second)
    try applier.apply(second)
    for family in NftRuleset.families {
      XCTAssertEqual(try listedRules(family), try sentRules(second, family), family)
    }

    // A guest's entries come and go on their own, in the kernel's sets; deleting one that is gone fails
    // (the manager then replaces the tables).
    let extra = NftModel.GuestPort(
      interface: "cv9", bridge: "cn1", mac: .stableDefault(name: "late", nic: 0), ipv4: try .parse("10.210.0.9"))
    try applier.apply(NftRuleset.portElements("add", [extra], isolatedBridges: ["cn1"]))
    let added = try applier.listTable(family: "bridge")
    XCTAssertTrue(added.contains("\"cv9\"") && added.contains(extra.mac.description), added)
    XCTAssertEqual(try listedRules("bridge"), try sentRules(second, "bridge"), "rules changed with an element")
    try applier.apply(NftRuleset.portElements("delete", [extra], isolatedBridges: ["cn1"]))
    XCTAssertFalse(try applier.listTable(family: "bridge").contains("\"cv9\""))
    XCTAssertThrowsError(try applier.apply(NftRuleset.portElements("delete", [extra], isolatedBridges: ["cn1"])))

    // A transaction nft refuses changes nothing and fails in one line.
    let bad = NftJSON.object([
      (
        "add",
        .object([
          (
            "rule",
            .object([
              ("family", .string("inet")), ("table", .string("cella")), ("chain", .string("nochain")),
              ("expr", .array([.object([("drop", .null)])])),
            ])
          )
        ])
      )
    ])
    XCTAssertThrowsError(try applier.apply(NftRuleset.build(NftModel()) + [bad])) { error in
      let e = error as! NetError
      XCTAssertEqual(e.kind, .notFound, e.message)
      XCTAssertTrue(e.message.hasPrefix("nft -j -f -: Could not process rule: No such file or directory"), e.message)
      XCTAssertFalse(e.message.contains("\n"))
    }
    XCTAssertEqual(try listedRules("inet"), try sentRules(second, "inet"))

    try applier.removeTables()
    try applier.removeTables()
    XCTAssertThrowsError(try applier.listTable(family: "inet")) { error in
      XCTAssertEqual((error as? NetError)?.kind, .notFound, "\(error)")
    }
    XCTAssertEqual(try hostRuleset(), hostBefore, "the host's own ruleset changed")
  }
}
