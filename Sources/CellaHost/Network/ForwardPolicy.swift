import CellaNet
import Foundation

/// The iptables FORWARD chain's policy, read only. Docker sets it to DROP when it enables IP forwarding
/// itself, and no rule in cella's tables can undo a drop in another base chain (see NftRuleset): routed
/// guest traffic then dies there, and only the admin can fix it.
enum ForwardPolicy {
  /// Whether `nft -j list chain ip filter FORWARD` output shows a DROP policy.
  static func drops(chainListing text: String) -> Bool {
    guard let doc = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
      let items = doc["nftables"] as? [[String: Any]]
    else { return false }
    return items.contains { ($0["chain"] as? [String: Any])?["policy"] as? String == "drop" }
  }

  /// Reads the policy through `applier`; false when there is no such chain (no iptables rules at all).
  static func drops(_ applier: NftApplier) -> Bool {
    guard let text = try? applier.listChain(family: "ip", table: "filter", chain: "FORWARD") else { return false }
    return drops(chainListing: text)
  }

  /// The warning for the NAT networks `bridges`, naming the admin's ways out.
  static func warning(bridges: [String]) -> String {
    let list = bridges.joined(separator: ", ")
    let first = bridges.first ?? "cb-NAME"
    return
      "the iptables FORWARD policy is DROP (Docker sets it): traffic between the outside and the guests of "
      + "\(list) is dropped; enable net.ipv4.ip_forward before Docker starts (a sysctl.d file), run Docker 28+ "
      + "with --ip-forward-no-drop, or accept the bridges in DOCKER-USER "
      + "(iptables -I DOCKER-USER -i \(first) -j ACCEPT; iptables -I DOCKER-USER -o \(first) -j ACCEPT)"
  }
}
