import CellaNet
import CellaSys
import Foundation

/// Which store cella's nftables tables belong to. A network namespace has one `inet cella` table, so
/// two daemons with different state directories in one namespace would each replace the other's rules
/// with their own: the tables carry their store's mark, and a daemon refuses to touch tables marked
/// by another store.
enum FirewallOwner {
  /// What the tables of the store at `stateDir` are marked with: the path (a hash in place of its
  /// middle when it exceeds nft's comment limit).
  static func mark(stateDir: String) -> String {
    let plain = "cella store \(stateDir)"
    if plain.utf8.count <= NftRuleset.maximumCommentLength { return plain }
    let hash = String(FNV1a.hash64(stateDir.utf8), radix: 16)
    return "cella store \(String(stateDir.utf8.prefix(60)) ?? "")…\(String(stateDir.utf8.suffix(30)) ?? "") #\(hash)"
  }

  /// Who holds the tables now.
  enum Holder: Equatable {
    /// No `inet cella` table.
    case nobody
    /// A table with this mark; nil: a table without one (made by hand, or by an older cella).
    case marked(String?)
  }

  /// Reads the holder through `applier` (nft).
  static func holder(_ applier: NftApplier) throws(HostError) -> Holder {
    do {
      _ = try applier.listTable(family: "inet")
    } catch {
      if error.kind == .notFound { return .nobody }
      throw HostError("nft", error)
    }
    let text: String
    do {
      text = try applier.listChain(family: "inet", table: NftRuleset.tableName, chain: NftRuleset.ownerChain)
    } catch {
      if error.kind == .notFound { return .marked(nil) }
      throw HostError("nft", error)
    }
    return .marked(comment(inChainListing: text))
  }

  /// The comment of the first rule in `nft -j list chain` output.
  static func comment(inChainListing text: String) -> String? {
    guard let doc = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
      let items = doc["nftables"] as? [[String: Any]]
    else { return nil }
    for item in items {
      if let rule = item["rule"] as? [String: Any], let c = rule["comment"] as? String { return c }
    }
    return nil
  }

  /// Refuses tables that `holder` shows belong to someone else than `mark`, in one line with the way out.
  static func check(_ holder: Holder, mark: String) throws(HostError) {
    guard case .marked(let found) = holder, found != mark else { return }
    let who = found.map { "another cella daemon (\($0))" } ?? "someone else (no cella store mark)"
    throw HostError(
      .invalidState,
      "nft table inet \(NftRuleset.tableName) belongs to \(who): run one cella daemon per network namespace, "
        + "or if that store is gone remove its tables ("
        + NftRuleset.families.map { "nft delete table \($0) \(NftRuleset.tableName)" }.joined(separator: "; ") + ")")
  }
}
