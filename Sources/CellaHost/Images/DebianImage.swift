import CellaAPI
import CellaSys
import Glibc

/// `cella image build debian`: debootstrap minbase from the host's Debian mirror. The finished tree is
/// kept as images/.cache/debian-SUITE.tar, and every image of that suite is unpacked from it with the
/// import's hardened tar reader, so the second build is only an unpack.
struct DebianImage {
  static let defaultSuite = "bookworm"
  let layout: StoreLayout
  let suite: String

  /// The suite is a Debian code name: letters only.
  static func check(suite: String) throws(HostError) {
    guard !suite.isEmpty, suite.utf8.count <= 32,
      suite.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) })
    else {
      throw HostError(.invalidArgument, "suite \(quote(suite)) is not a Debian code name (letters only, like bookworm)")
    }
  }

  var cache: String { layout.imageCache + "/debian-" + suite + ".tar" }

  /// Unsupported when neither the cache nor debootstrap is there.
  func checkHost() throws(HostError) {
    if FileIO.exists(cache) { return }
    guard HostTools.find("debootstrap") != nil else {
      throw HostError(.unsupported, "debootstrap is missing: install debootstrap (apt-get install debootstrap)")
    }
  }

  /// Fills `rootfs` (the cache first when there is none) and returns the guest's process.
  func build(into rootfs: String, warn: @Sendable (String) -> Void) throws(HostError) -> ImageProcess {
    if !FileIO.exists(cache) { try makeCache() }
    let writer = try RootfsWriter(rootfs: rootfs)
    let reader = TarReader(try FileStream(cache))
    writer.beginLayer()
    do {
      while let entry = try reader.next() { try writer.apply(entry, data: reader) }
    } catch {
      throw HostError(error.kind, "\(cache): \(error.message)")
    }
    for line in writer.warnings { warn("debian \(suite): \(line)") }
    var st = stat()
    let hasInit = lstat(rootfs + "/sbin/init", &st) == 0
    let target = InRoot.readLink(dirfd: AT_FDCWD, rootfs + "/sbin/init") ?? ""
    let env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    if hasInit {
      return ImageProcess(
        cmd: ["/sbin/init"], env: env, workingDir: "/",
        stopSignal: target.contains("systemd") ? "SIGRTMIN+3" : "SIGTERM")
    }
    return ImageProcess(cmd: ["/bin/bash"], env: env, workingDir: "/", stopSignal: "SIGTERM")
  }

  /// debootstrap into a temporary directory (in a mount namespace of its own, so the mounts it makes
  /// die with it), then a tar of the result renamed into the cache.
  private func makeCache() throws(HostError) {
    guard let debootstrap = HostTools.find("debootstrap") else {
      throw HostError(.unsupported, "debootstrap is missing: install debootstrap (apt-get install debootstrap)")
    }
    guard let unshare = HostTools.find("unshare"), let tar = HostTools.find("tar") else {
      throw HostError(.unsupported, "unshare and tar (util-linux, tar) are needed to build a debian image")
    }
    let mirror = try Self.hostMirror()
    try ImageStore.makeImagesDirectory(layout)
    if mkdir(layout.imageCache, 0o700) != 0 && errno != EEXIST {
      throw HostError("mkdir", path: layout.imageCache, errno: errno)
    }
    let tag = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    let work = layout.imageCache + "/" + ImageStore.tempPrefix + "debian-" + suite + "-" + tag
    let partial = work + ".tar"
    defer {
      try? TreeOps.remove(path: work)
      unlink(partial)
    }
    if mkdir(work, 0o700) != 0 { throw HostError("mkdir", path: work, errno: errno) }
    let run = try HostTools.run(
      unshare, ["--mount", "--propagation", "private", debootstrap, "--variant=minbase", suite, work, mirror])
    guard run.status == 0 else {
      let why = HostTools.lastLine(run.stderr.isEmpty ? run.stdout : run.stderr)
      throw HostError(.system, "debootstrap \(suite) from \(mirror) failed (exit \(run.status)): \(why)")
    }
    let packed = try HostTools.run(tar, ["--create", "--numeric-owner", "--file", partial, "--directory", work, "."])
    guard packed.status == 0 else {
      throw HostError(.system, "tar of the debootstrap tree failed: \(HostTools.lastLine(packed.stderr))")
    }
    if rename(partial, cache) != 0 { throw HostError("rename", path: partial, errno: errno) }
  }

  /// The host's Debian mirror (see AptSources), or unsupported.
  static func hostMirror() throws(HostError) -> String {
    var files: [(name: String, text: String)] = []
    if let text = try? FileIO.readString(AptSources.mainFile) { files.append((AptSources.mainFile, text)) }
    for name in ((try? FileIO.listDirectory(AptSources.directory)) ?? []).sorted()
    where name.hasSuffix(".list") || name.hasSuffix(".sources") {
      if let text = try? FileIO.readString(AptSources.directory + "/" + name) { files.append((name, text)) }
    }
    guard let mirror = AptSources.firstMirror(files) else {
      throw HostError(
        .unsupported, "no http(s) Debian mirror in \(AptSources.mainFile) or \(AptSources.directory); add one")
    }
    return mirror
  }
}
