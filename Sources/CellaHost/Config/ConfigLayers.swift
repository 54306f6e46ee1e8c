/// How a guest's keys come together: the `default` profile, then its profiles in order, then its own
/// keys; a later layer's value replaces an earlier one's.
public enum ConfigLayers {
  /// The merged map (keys no layer sets are absent: their defaults are `EffectiveConfig`'s business).
  public static func effective(
    default base: [String: String], profiles: [[String: String]], own: [String: String]
  ) -> [String: String] {
    var merged = base
    for layer in profiles + [own] { merged.merge(layer) { _, later in later } }
    return merged
  }
}
