import CellaAPI
import CellaSys
import Glibc

/// `cella image import`: an OCI image layout (directory or tar) or a docker archive, unpacked into a
/// root filesystem with every blob's digest checked.
struct ImageImporter {
  /// The most layers an image may have (Docker's own limit is 127).
  static let maxLayers = 256
  /// The most entries all layers together may have.
  static let maxEntries = 2_000_000
  /// What a decompressed layer may hold after its end-of-archive marker (tar pads to 10 KiB records).
  static let maxTrailing: UInt64 = 16 << 20

  /// One layer to apply: where it is and the digests to check it against.
  struct Layer {
    var path: String
    /// The digest of the blob as stored (OCI descriptors, docker's blobs/sha256/ names).
    var blobHex: String?
    /// The digest of the uncompressed tar (the config's rootfs.diff_ids).
    var diffHex: String?
  }

  let file: String

  /// Unpacks the image into `rootfs`; returns where it came from, its process and any warnings.
  func run(into rootfs: String) throws(HostError) -> (ImageSource, ImageProcess, [String]) {
    var st = stat()
    guard stat(file, &st) == 0 else { throw HostError("import", path: file, errno: errno) }
    let files: any ArchiveFiles
    if (st.st_mode & S_IFMT) == S_IFDIR {
      files = try DirectoryFiles(file)
    } else if (st.st_mode & S_IFMT) == S_IFREG {
      try refuseCompressed()
      files = try TarFiles(file)
    } else {
      throw HostError(.invalidArgument, "\(file): neither a directory nor a tar file")
    }
    let source: ImageSource
    let config: ImageManifests.ImageConfig
    let layers: [Layer]
    if files.exists("oci-layout") && files.exists("index.json") {
      source = .oci
      (config, layers) = try readOCI(files)
    } else if files.exists("manifest.json") {
      source = .dockerArchive
      (config, layers) = try readDocker(files)
    } else {
      throw HostError(
        .invalidArgument,
        "\(file): neither an OCI image layout (oci-layout, index.json) nor a docker archive (manifest.json)")
    }
    guard layers.count <= Self.maxLayers else {
      throw HostError(.invalidArgument, "\(file): \(layers.count) layers; at most \(Self.maxLayers) are accepted")
    }
    let writer = try RootfsWriter(rootfs: rootfs)
    var entries = 0
    for (i, layer) in layers.enumerated() {
      do {
        try apply(layer, from: files, writer: writer, entries: &entries)
      } catch {
        throw HostError(error.kind, "\(file): layer \(i + 1) (\(layer.path)): \(error.message)")
      }
    }
    return (source, config.process, writer.warnings)
  }

  private func refuseCompressed() throws(HostError) {
    let fd = open(file, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw HostError("open", path: file, errno: errno) }
    defer { close(fd) }
    var magic = [UInt8](repeating: 0, count: 4)
    let n = magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4, 0) }
    if n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
      throw HostError(.invalidArgument, "\(file): is gzip-compressed; decompress it (gunzip) and import the tar")
    }
  }

  private func readOCI(_ files: any ArchiveFiles) throws(HostError) -> (ImageManifests.ImageConfig, [Layer]) {
    var index = try ImageManifests.decode(
      ImageManifests.Index.self, files.readSmall("index.json"), "\(file): index.json")
    var chosen: ImageManifests.Descriptor?
    for _ in 0..<4 {
      let arch = ImageManifests.hostArchitecture
      let fits = index.manifests.filter {
        guard let p = $0.platform else { return true }
        return (p.os ?? "linux") == "linux" && (p.architecture ?? arch) == arch
      }
      guard let d = fits.first else {
        throw HostError(.invalidArgument, "\(file): index.json names no image for linux/\(arch)")
      }
      if let type = d.mediaType, type.contains("image.index") || type.contains("manifest.list") {
        index = try ImageManifests.decode(ImageManifests.Index.self, readBlob(files, d.digest), "\(file): \(d.digest)")
        continue
      }
      chosen = d
      break
    }
    guard let chosen else { throw HostError(.invalidArgument, "\(file): image indexes nest too deep") }
    let manifest = try ImageManifests.decode(
      ImageManifests.Manifest.self, readBlob(files, chosen.digest), "\(file): manifest \(chosen.digest)")
    let config = try ImageManifests.decode(
      ImageManifests.ImageConfig.self, readBlob(files, manifest.config.digest),
      "\(file): config \(manifest.config.digest)")
    var layers: [Layer] = []
    for d in manifest.layers {
      let hex = try ImageManifests.sha256Hex(d.digest, "\(file): layer")
      layers.append(Layer(path: "blobs/sha256/" + hex, blobHex: hex, diffHex: nil))
    }
    return (config, layers)
  }

  private func readDocker(_ files: any ArchiveFiles) throws(HostError) -> (ImageManifests.ImageConfig, [Layer]) {
    let images = try ImageManifests.decode(
      [ImageManifests.DockerImage].self, files.readSmall("manifest.json"), "\(file): manifest.json")
    guard images.count == 1, let image = images.first else {
      throw HostError(
        .invalidArgument, "\(file): manifest.json holds \(images.count) images; save exactly one image to import it")
    }
    let bytes = try files.readSmall(image.config)
    if let hex = Self.digestInName(image.config) { try check(bytes, hex, image.config) }
    let config = try ImageManifests.decode(ImageManifests.ImageConfig.self, bytes, "\(file): \(image.config)")
    let diffIDs = config.rootfs?.diffIDs
    var layers: [Layer] = []
    for (i, path) in image.layers.enumerated() {
      var layer = Layer(path: path, blobHex: Self.digestInName(path), diffHex: nil)
      if let ids = diffIDs, ids.count == image.layers.count {
        layer.diffHex = try ImageManifests.sha256Hex(ids[i], "\(file): \(image.config): rootfs.diff_ids[\(i)]")
      }
      guard layer.blobHex != nil || layer.diffHex != nil else {
        throw HostError(
          .invalidArgument, "\(file): layer \(path) has no digest to check (the config lacks rootfs.diff_ids)")
      }
      layers.append(layer)
    }
    return (config, layers)
  }

  /// The digest a docker archive spells in a name: `blobs/sha256/HEX` or an old `HEX.json` config.
  static func digestInName(_ path: String) -> String? {
    let name = TarFiles.normalize(path)
    var hex = name
    if name.hasPrefix("blobs/sha256/") {
      hex = String(name.dropFirst(13))
    } else if name.hasSuffix(".json") && !name.contains("/") {
      hex = String(name.dropLast(5))
    } else {
      return nil
    }
    return (try? ImageManifests.sha256Hex("sha256:" + hex, "")) ?? nil
  }

  private func readBlob(_ files: any ArchiveFiles, _ digest: String) throws(HostError) -> [UInt8] {
    let hex = try ImageManifests.sha256Hex(digest, file)
    let path = "blobs/sha256/" + hex
    guard files.exists(path) else { throw HostError(.invalidArgument, "\(file): blob \(path) is missing") }
    let bytes = try files.readSmall(path)
    try check(bytes, hex, path)
    return bytes
  }

  private func check(_ bytes: [UInt8], _ hex: String, _ path: String) throws(HostError) {
    var hash = SHA256()
    hash.update(bytes)
    let got = hash.finishHex()
    if got != hex { throw HostError(.invalidArgument, "\(file): \(path): digest mismatch (content is sha256:\(got))") }
  }

  private func apply(_ layer: Layer, from files: any ArchiveFiles, writer: RootfsWriter, entries: inout Int)
    throws(HostError)
  {
    guard files.exists(layer.path) else { throw HostError(.invalidArgument, "the blob is missing") }
    let (peek, _) = try files.open(layer.path)
    let magic = try peek.readAll(limit: Int.max, what: layer.path, upTo: 4)
    let (raw, _) = try files.open(layer.path)
    let stored = HashingSource(raw)
    var filter: FilterProcess?
    defer { filter?.stop() }
    var stream: ByteSource = stored
    if magic.starts(with: [0x1f, 0x8b]) {
      guard let gzip = HostTools.find("gzip") else { throw HostError(.unsupported, "gzip layer; install gzip") }
      filter = try FilterProcess(tool: gzip, args: ["-dc"], input: stored)
    } else if magic.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) {
      guard let zstd = HostTools.find("zstd") else {
        throw HostError(.unsupported, "zstd-compressed layer; install zstd to import it")
      }
      filter = try FilterProcess(tool: zstd, args: ["-dc"], input: stored)
    }
    if let filter { stream = filter }
    // Uncompressed, the stored digest is the diff_id too: one hash is enough.
    let uncompressed = filter != nil && layer.diffHex != nil ? HashingSource(stream) : nil
    let tar: ByteSource = uncompressed ?? stream
    let reader = TarReader(tar)
    writer.beginLayer()
    while let entry = try reader.next() {
      entries += 1
      if entries > Self.maxEntries {
        throw HostError(.invalidArgument, "more than \(Self.maxEntries) entries in all layers")
      }
      try writer.apply(entry, data: reader)
    }
    _ = try tar.drain(limit: Self.maxTrailing, what: "after the end of the tar")
    _ = try stored.skip(UInt64.max)
    let storedHex = stored.finishHex()
    if let hex = layer.blobHex, storedHex != hex {
      throw HostError(.invalidArgument, "digest mismatch (content is sha256:\(storedHex))")
    }
    if let hex = layer.diffHex {
      let got = uncompressed?.finishHex() ?? storedHex
      if got != hex { throw HostError(.invalidArgument, "diff_id mismatch (uncompressed tar is sha256:\(got))") }
    }
  }
}

extension ByteSource {
  /// Reads up to `upTo` bytes from the start (a magic number).
  fileprivate func readAll(limit: Int, what: String, upTo: Int) throws(HostError) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: upTo)
    var got = 0
    while got < upTo {
      let n = try read(into: &out, from: got)
      if n == 0 { break }
      got += n
    }
    return Array(out[0..<got])
  }
}
