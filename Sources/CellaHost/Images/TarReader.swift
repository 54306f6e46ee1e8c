/// One member of a tar archive, after its pax and GNU long-name headers are applied.
struct TarEntry {
  enum Kind: Equatable {
    case file, hardlink, symlink, charDevice, blockDevice, directory, fifo
  }
  var path: String
  var kind: Kind
  var mode: UInt32
  var uid: UInt32
  var gid: UInt32
  var size: UInt64
  var mtime: Int64
  var linkName: String
  /// Where its header starts in the stream.
  var offset: UInt64
  /// Where its data starts in the stream.
  var dataOffset: UInt64
}

/// A streaming tar reader: ustar, GNU long names and links, pax headers (path, linkpath, size, uid,
/// gid, mtime). Every number is bounded, so no header can make it trap; errors name the entry or offset.
/// Names are read as UTF-8 (a byte that is not becomes U+FFFD); xattr records (SCHILY.xattr.*) are not
/// applied, so file capabilities in an image are lost.
final class TarReader: ByteSource {
  /// The largest entry accepted (a header may claim up to 2^95 bytes).
  static let maxEntrySize: UInt64 = 1 << 40
  /// The largest pax header or GNU long name.
  static let maxMetaSize: UInt64 = 1 << 20
  /// The longest path of an entry.
  static let maxPathLength = 4096

  private let source: ByteSource
  private var buffer = [UInt8](repeating: 0, count: 65536)
  private var start = 0
  private var end = 0
  /// Bytes consumed from the source so far.
  private(set) var position: UInt64 = 0
  /// Data bytes of the current entry not yet read, and the padding after them.
  private var dataLeft: UInt64 = 0
  private var padLeft: UInt64 = 0
  private var current: String = ""
  private var finished = false

  init(_ source: ByteSource) { self.source = source }

  /// The next entry, or nil at the end of the archive; the unread data of the previous one is skipped.
  func next() throws(HostError) -> TarEntry? {
    if finished { return nil }
    try skipRest()
    var paxPath: String?
    var paxLink: String?
    var paxSize: UInt64?
    var paxUID: UInt32?
    var paxGID: UInt32?
    var paxMtime: Int64?
    var longName: String?
    var longLink: String?
    while true {
      let offset = position
      guard let header = try block(atEndOK: true) else {
        throw HostError(.invalidArgument, "offset \(offset): ends without an end-of-archive marker")
      }
      if header.allSatisfy({ $0 == 0 }) {
        finished = true
        return nil
      }
      try checkSum(header, offset: offset)
      let magic = Array(header[257..<263])
      let posix = magic == Array("ustar\0".utf8)
      var name = string(header[0..<100])
      if posix {
        let prefix = string(header[345..<500])
        if !prefix.isEmpty { name = prefix + "/" + name }
      }
      let shown = longName ?? paxPath ?? name
      current = shown
      let headerSize = try number(header[124..<136], "size", offset)
      let type = header[156]
      switch type {
      case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
        guard headerSize <= Self.maxMetaSize else {
          throw HostError(.invalidArgument, "offset \(offset): extended header of \(headerSize) bytes is too large")
        }
        let data = try readMeta(Int(headerSize), offset: offset)
        if type == UInt8(ascii: "L") {
          longName = string(data[...])
        } else if type == UInt8(ascii: "K") {
          longLink = string(data[...])
        } else if type == UInt8(ascii: "x") {
          // Global ('g') headers carry defaults for a whole archive; none of them matters here.
          for (key, value) in try paxRecords(data, offset: offset) {
            switch key {
            case "path": paxPath = value
            case "linkpath": paxLink = value
            case "size": paxSize = try paxNumber(value, key, offset, max: UInt64.max)
            case "uid": paxUID = UInt32(try paxNumber(value, key, offset, max: UInt64(UInt32.max - 1)))
            case "gid": paxGID = UInt32(try paxNumber(value, key, offset, max: UInt64(UInt32.max - 1)))
            case "mtime":
              let whole = value.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
              paxMtime = Int64(whole) ?? 0
            default: break
            }
          }
        }
        continue
      default: break
      }
      let kind: TarEntry.Kind
      switch type {
      case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .file
      case UInt8(ascii: "1"): kind = .hardlink
      case UInt8(ascii: "2"): kind = .symlink
      case UInt8(ascii: "3"): kind = .charDevice
      case UInt8(ascii: "4"): kind = .blockDevice
      case UInt8(ascii: "5"): kind = .directory
      case UInt8(ascii: "6"): kind = .fifo
      default:
        let shownType = type >= 0x20 && type < 0x7f ? String(UnicodeScalar(type)) : "\\(\(type))"
        throw HostError(.invalidArgument, "entry \(quote(shown)) (offset \(offset)): unsupported type '\(shownType)'")
      }
      let path = shown
      let size = paxSize ?? headerSize
      guard size <= Self.maxEntrySize else {
        throw HostError(.invalidArgument, "entry \(quote(shown)) (offset \(offset)): size \(size) is too large")
      }
      let link = longLink ?? paxLink ?? string(header[157..<257])
      guard path.utf8.count <= Self.maxPathLength, link.utf8.count <= Self.maxPathLength else {
        throw HostError(.invalidArgument, "entry at offset \(offset): name longer than \(Self.maxPathLength) bytes")
      }
      var uid = try uid32(number(header[108..<116], "uid", offset), "uid", offset)
      if let paxUID { uid = paxUID }
      var gid = try uid32(number(header[116..<124], "gid", offset), "gid", offset)
      if let paxGID { gid = paxGID }
      let mode = UInt32(truncatingIfNeeded: try number(header[100..<108], "mode", offset) & 0o7777)
      let mtime = paxMtime ?? Int64(truncatingIfNeeded: (try? number(header[136..<148], "mtime", offset)) ?? 0)
      // Only regular files have data, whatever the size field of a link, device or directory says.
      let dataSize: UInt64 = kind == .file ? size : 0
      dataLeft = dataSize
      padLeft = (512 - dataSize % 512) % 512
      return TarEntry(
        path: path, kind: kind, mode: mode, uid: uid, gid: gid, size: dataSize, mtime: mtime, linkName: link,
        offset: offset, dataOffset: position)
    }
  }

  /// Reads data of the current entry; 0 at its end. A short archive is an error naming the entry.
  func read(into out: UnsafeMutableRawBufferPointer) throws(HostError) -> Int {
    if dataLeft == 0 || out.count == 0 { return 0 }
    if start == end { try fill(truncated: current) }
    let n = min(out.count, end - start, Int(min(dataLeft, UInt64(Int.max))))
    buffer.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress! + start, byteCount: n) }
    start += n
    position += UInt64(n)
    dataLeft -= UInt64(n)
    return n
  }

  /// Skips what is left of the current entry's data and padding.
  private func skipRest() throws(HostError) {
    let total = dataLeft + padLeft
    if total == 0 { return }
    let fromBuffer = min(UInt64(end - start), total)
    start += Int(fromBuffer)
    var left = total - fromBuffer
    if left > 0 {
      let skipped = try source.skip(left)
      left -= skipped
    }
    position += total - left
    if left > 0 {
      throw HostError(.invalidArgument, "entry \(quote(current)): truncated at offset \(position)")
    }
    dataLeft = 0
    padLeft = 0
  }

  private func fill(truncated entry: String?) throws(HostError) {
    if start > 0 && start == end {
      start = 0
      end = 0
    }
    let n = try source.read(into: &buffer, from: end)
    if n == 0 {
      let what = entry.map { "entry \(quote($0)): " } ?? ""
      throw HostError(.invalidArgument, "\(what)truncated at offset \(position + UInt64(end - start))")
    }
    end += n
  }

  /// The next 512-byte block; nil at a clean end of the stream when `atEndOK`.
  private func block(atEndOK: Bool) throws(HostError) -> [UInt8]? {
    if end - start < 512 {
      if start > 0 {
        buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
        end -= start
        start = 0
      }
      while end < 512 {
        let n = try source.read(into: &buffer, from: end)
        if n == 0 {
          if end == 0 && atEndOK { return nil }
          throw HostError(.invalidArgument, "truncated header at offset \(position)")
        }
        end += n
      }
    }
    let out = Array(buffer[start..<(start + 512)])
    start += 512
    position += 512
    return out
  }

  private func readMeta(_ size: Int, offset: UInt64) throws(HostError) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(size)
    dataLeft = UInt64(size)
    padLeft = (512 - UInt64(size) % 512) % 512
    current = "extended header at offset \(offset)"
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < size {
      let n = try read(into: &chunk)
      out.append(contentsOf: chunk[0..<n])
    }
    try skipRest()
    return out
  }

  private func checkSum(_ header: [UInt8], offset: UInt64) throws(HostError) {
    let stored = (try? number(header[148..<156], "checksum", offset)) ?? UInt64.max
    var unsigned: UInt64 = 0
    var signed: Int64 = 0
    for (i, b) in header.enumerated() {
      let v = (148..<156).contains(i) ? UInt8(ascii: " ") : b
      unsigned += UInt64(v)
      signed += Int64(Int8(bitPattern: v))
    }
    if stored != unsigned && Int64(truncatingIfNeeded: stored) != signed {
      throw HostError(.invalidArgument, "offset \(offset): bad header checksum (not a tar archive, or corrupt)")
    }
  }

  /// A numeric field: octal (space or NUL terminated) or GNU base-256.
  private func number(_ field: ArraySlice<UInt8>, _ what: String, _ offset: UInt64) throws(HostError) -> UInt64 {
    guard let first = field.first else { return 0 }
    if first & 0x80 != 0 {
      if first == 0xff {
        throw HostError(.invalidArgument, "entry \(quote(current)) (offset \(offset)): negative \(what)")
      }
      var value = UInt64(first & 0x7f)
      for b in field.dropFirst() {
        guard value <= UInt64.max >> 8 else {
          throw HostError(.invalidArgument, "entry \(quote(current)) (offset \(offset)): \(what) is too large")
        }
        value = value << 8 | UInt64(b)
      }
      return value
    }
    var value: UInt64 = 0
    var seenDigit = false
    for b in field {
      if b == 0 || (b == UInt8(ascii: " ") && seenDigit) { break }
      if b == UInt8(ascii: " ") { continue }
      guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "7"), value <= UInt64.max >> 3 else {
        throw HostError(.invalidArgument, "offset \(offset): bad \(what) field in the header")
      }
      value = value << 3 | UInt64(b - UInt8(ascii: "0"))
      seenDigit = true
    }
    return value
  }

  private func uid32(_ v: UInt64, _ what: String, _ offset: UInt64) throws(HostError) -> UInt32 {
    guard v < UInt64(UInt32.max) else {
      throw HostError(.invalidArgument, "entry \(quote(current)) (offset \(offset)): \(what) \(v) is out of range")
    }
    return UInt32(v)
  }

  private func paxRecords(_ data: [UInt8], offset: UInt64) throws(HostError) -> [(String, String)] {
    var out: [(String, String)] = []
    var i = 0
    let bad = HostError(.invalidArgument, "pax header at offset \(offset): malformed record")
    while i < data.count {
      if data[i] == 0 { break }
      var len = 0
      var j = i
      while j < data.count, data[j] >= UInt8(ascii: "0"), data[j] <= UInt8(ascii: "9") {
        guard len < 1 << 24 else { throw bad }
        len = len * 10 + Int(data[j] - UInt8(ascii: "0"))
        j += 1
      }
      guard j < data.count, data[j] == UInt8(ascii: " "), j > i, len > j - i, len <= data.count - i,
        data[i + len - 1] == UInt8(ascii: "\n")
      else { throw bad }
      let record = data[(j + 1)..<(i + len - 1)]
      guard let eq = record.firstIndex(of: UInt8(ascii: "=")) else { throw bad }
      out.append((string(record[..<eq], stopAtNUL: false), string(record[(eq + 1)...], stopAtNUL: false)))
      i += len
    }
    return out
  }

  private func paxNumber(_ text: String, _ key: String, _ offset: UInt64, max: UInt64) throws(HostError) -> UInt64 {
    guard let v = UInt64(text), v <= max else {
      throw HostError(.invalidArgument, "pax header at offset \(offset): bad \(key) \(quote(text))")
    }
    return v
  }

  private func string(_ bytes: ArraySlice<UInt8>, stopAtNUL: Bool = true) -> String {
    let cut = stopAtNUL ? (bytes.firstIndex(of: 0) ?? bytes.endIndex) : bytes.endIndex
    return String(decoding: bytes[bytes.startIndex..<cut], as: UTF8.self)
  }
}

/// A name as error lines show it: quoted, cut to 200 characters.
func quote(_ text: String) -> String {
  let cut = text.count > 200 ? String(text.prefix(200)) + "…" : text
  return "\"" + cut + "\""
}
