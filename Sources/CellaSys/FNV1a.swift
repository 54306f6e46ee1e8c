/// FNV-1a: a fixed, tiny hash for names and addresses derived from text (cache file names, default
/// MACs, short bridge names, store marks). Never for security; its values are pinned by tests, since
/// changing it changes every name derived with it.
public enum FNV1a {
  /// The 64-bit hash of `bytes`.
  public static func hash64<S: Sequence<UInt8>>(_ bytes: S) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes {
      h ^= UInt64(b)
      h = h &* 0x0000_0100_0000_01b3
    }
    return h
  }

  /// The 32-bit hash of `bytes`.
  public static func hash32<S: Sequence<UInt8>>(_ bytes: S) -> UInt32 {
    var h: UInt32 = 0x811c_9dc5
    for b in bytes {
      h ^= UInt32(b)
      h = h &* 0x0100_0193
    }
    return h
  }
}
