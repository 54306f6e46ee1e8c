import CellaSys
import Glibc

/// Bytes read in order: a slice of a file, a decompressor's output, a tar entry's data.
protocol ByteSource: AnyObject {
  /// Reads up to `buffer.count` bytes; 0 only at the end.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(HostError) -> Int
  /// Skips `count` bytes (fewer only at the end); returns how many were skipped.
  func skip(_ count: UInt64) throws(HostError) -> UInt64
}

extension ByteSource {
  func skip(_ count: UInt64) throws(HostError) -> UInt64 {
    var left = count
    var scratch = [UInt8](repeating: 0, count: 65536)
    while left > 0 {
      let want = Int(min(left, UInt64(scratch.count)))
      let n = try read(into: &scratch, upTo: want)
      if n == 0 { break }
      left -= UInt64(n)
    }
    return count - left
  }

  /// Reads to the end, at most `limit` bytes; more is an error naming `what`.
  func readAll(limit: Int, what: String) throws(HostError) -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = try read(into: &chunk)
      if n == 0 { return out }
      out.append(contentsOf: chunk[0..<n])
      if out.count > limit { throw HostError(.invalidArgument, "\(what) is larger than \(limit) bytes") }
    }
  }

  /// Reads and drops everything left, at most `limit` bytes; returns how many there were.
  func drain(limit: UInt64, what: String) throws(HostError) -> UInt64 {
    let n = try skip(limit + 1)
    if n > limit { throw HostError(.invalidArgument, "\(what): more than \(limit) bytes of trailing data") }
    return n
  }
}

extension ByteSource {
  /// Reads into `array[from..<upTo]` (to its end by default); 0 only at the end of the source.
  func read(into array: inout [UInt8], from: Int = 0, upTo: Int? = nil) throws(HostError) -> Int {
    let end = upTo ?? array.count
    return try array.withUnsafeMutableBytes { b in
      Result { () throws(HostError) -> Int in try read(into: UnsafeMutableRawBufferPointer(rebasing: b[from..<end])) }
    }.get()
  }
}

/// `length` bytes of an open file from `offset`, read with pread (the fd is not owned).
final class FileSlice: ByteSource {
  private let fd: Int32
  private var offset: UInt64
  private var left: UInt64
  private let path: String

  init(fd: Int32, offset: UInt64, length: UInt64, path: String) {
    self.fd = fd
    self.offset = offset
    self.left = length
    self.path = path
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(HostError) -> Int {
    if left == 0 || buffer.count == 0 { return 0 }
    let want = Int(min(left, UInt64(buffer.count)))
    let n: Int
    do {
      n = try sys("read", path: path) { pread(fd, buffer.baseAddress, want, off_t(offset)) }
    } catch {
      throw HostError("", error)
    }
    if n == 0 { throw HostError(.invalidArgument, "\(path): ends early (offset \(offset))") }
    offset += UInt64(n)
    left -= UInt64(n)
    return n
  }

  func skip(_ count: UInt64) throws(HostError) -> UInt64 {
    let n = min(count, left)
    offset += n
    left -= n
    return n
  }
}

/// Passes another source through and takes the SHA-256 of everything that went by.
final class HashingSource: ByteSource {
  private let inner: ByteSource
  private var hash = SHA256()

  init(_ inner: ByteSource) { self.inner = inner }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(HostError) -> Int {
    let n = try inner.read(into: buffer)
    if n > 0 { hash.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
    return n
  }

  /// The digest of what was read; call once, at the end.
  func finishHex() -> String { hash.finishHex() }
}

/// Bytes already in memory.
final class MemorySource: ByteSource {
  private let bytes: [UInt8]
  private var at = 0
  init(_ bytes: [UInt8]) { self.bytes = bytes }
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(HostError) -> Int {
    let n = min(buffer.count, bytes.count - at)
    if n > 0 {
      bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + at, byteCount: n) }
    }
    at += n
    return n
  }
}

/// A whole file, opened here and closed when the source goes away.
final class FileStream: ByteSource {
  private let fd: Int32
  private let slice: FileSlice

  init(_ path: String) throws(HostError) {
    fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw HostError("open", path: path, errno: errno) }
    var st = stat()
    fstat(fd, &st)
    slice = FileSlice(fd: fd, offset: 0, length: UInt64(max(st.st_size, 0)), path: path)
  }

  deinit { close(fd) }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(HostError) -> Int { try slice.read(into: buffer) }
  func skip(_ count: UInt64) throws(HostError) -> UInt64 { try slice.skip(count) }
}
