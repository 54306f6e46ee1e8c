import CellaSys
import Glibc

/// The files of an image archive: an OCI layout directory, or the members of a tar (read in place).
protocol ArchiveFiles: AnyObject {
  /// Whether the archive holds a regular file at `path`.
  func exists(_ path: String) -> Bool
  /// The file at `path` as a byte source and its size.
  func open(_ path: String) throws(HostError) -> (ByteSource, UInt64)
}

extension ArchiveFiles {
  /// A small file (a manifest, a config) read whole.
  func readSmall(_ path: String, limit: Int = 16 << 20) throws(HostError) -> [UInt8] {
    let (source, _) = try open(path)
    return try source.readAll(limit: limit, what: path)
  }
}

/// An OCI image layout directory; every file is opened with RESOLVE_IN_ROOT, so no symlink in it
/// reaches a file outside it.
final class DirectoryFiles: ArchiveFiles {
  private let dir: Int32
  private var opened: [Int32] = []
  private let path: String

  init(_ path: String) throws(HostError) {
    self.path = path
    dir = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dir < 0 { throw HostError("open", path: path, errno: errno) }
  }

  deinit {
    for fd in opened { close(fd) }
    close(dir)
  }

  func exists(_ name: String) -> Bool {
    guard let fd = try? InRoot.open(root: dir, name, flags: O_RDONLY) else { return false }
    defer { close(fd) }
    return InRoot.fileType(fd) == S_IFREG
  }

  func open(_ name: String) throws(HostError) -> (ByteSource, UInt64) {
    let fd: Int32
    do { fd = try InRoot.open(root: dir, name, flags: O_RDONLY) } catch {
      throw HostError(error.kind, "\(path): \(name): \(error.reason)")
    }
    opened.append(fd)
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      throw HostError(.invalidArgument, "\(path): \(name) is not a regular file")
    }
    return (FileSlice(fd: fd, offset: 0, length: UInt64(st.st_size), path: path + "/" + name), UInt64(st.st_size))
  }
}

/// The members of a tar file, indexed in one pass and then read in place with pread.
final class TarFiles: ArchiveFiles {
  private struct Member {
    var offset: UInt64
    var size: UInt64
    var link: String?
  }
  /// The most members an image archive may have (its layers are separate blobs).
  static let maxMembers = 100_000

  private let fd: Int32
  private let path: String
  private var members: [String: Member] = [:]

  init(_ path: String) throws(HostError) {
    self.path = path
    fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw HostError("open", path: path, errno: errno) }
    var st = stat()
    fstat(fd, &st)
    let reader = TarReader(FileSlice(fd: fd, offset: 0, length: UInt64(max(st.st_size, 0)), path: path))
    do {
      var count = 0
      while let entry = try reader.next() {
        count += 1
        if count > Self.maxMembers {
          throw HostError(.invalidArgument, "more than \(Self.maxMembers) members")
        }
        let name = Self.normalize(entry.path)
        switch entry.kind {
        case .file: members[name] = Member(offset: entry.dataOffset, size: entry.size)
        case .symlink:
          // docker save links a layer.tar seen twice to the first copy.
          let base = name.split(separator: "/").dropLast().joined(separator: "/")
          let target = entry.linkName.hasPrefix("/") ? entry.linkName : base + "/" + entry.linkName
          members[name] = Member(offset: 0, size: 0, link: Self.normalize(target))
        case .hardlink: members[name] = Member(offset: 0, size: 0, link: Self.normalize(entry.linkName))
        default: break
        }
      }
    } catch let error as HostError {
      close(fd)
      throw HostError(.invalidArgument, "\(path): \(error.message)")
    } catch {
      close(fd)
      throw HostError(.internal, "\(path): \(error)")
    }
  }

  deinit { close(fd) }

  func exists(_ name: String) -> Bool { resolve(Self.normalize(name)) != nil }

  func open(_ name: String) throws(HostError) -> (ByteSource, UInt64) {
    guard let m = resolve(Self.normalize(name)) else {
      throw HostError(.invalidArgument, "\(path): no member \(quote(name))")
    }
    return (FileSlice(fd: fd, offset: m.offset, length: m.size, path: path), m.size)
  }

  private func resolve(_ name: String) -> Member? {
    var name = name
    for _ in 0..<8 {
      guard let m = members[name] else { return nil }
      guard let link = m.link else { return m }
      name = link
    }
    return nil
  }

  /// A member name with `./`, `..` and doubled slashes resolved lexically (clamped at the top).
  static func normalize(_ name: String) -> String { InRoot.components(name).joined(separator: "/") }
}
