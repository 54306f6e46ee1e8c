import ArgumentParser
import CellaAPI
import CellaErrors
import Glibc

struct ImageCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "image", abstract: "Build, import, list and delete images.",
    subcommands: [Build.self, Import.self, List.self, Delete.self])

  struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "build",
      abstract: "Build an image: busybox (offline, from busybox-static) or debian (debootstrap minbase).")
    @Argument(help: "busybox or debian.")
    var source: String
    @Argument var name: String
    @Option(help: "The Debian suite (debian only; default bookworm).")
    var suite: String?

    func run() throws {
      guard let kind = ImageSource(rawValue: source), kind == .busybox || kind == .debian else {
        throw APIError(.invalidArgument, "image build: unknown builder \"\(source)\" (busybox or debian)")
      }
      if suite != nil && kind != .debian {
        throw APIError(.invalidArgument, "image build: --suite is for debian images only")
      }
      let _: ImageInfo = try CLI.client.post(
        Endpoints.imageBuild, BuildImageRequest(source: kind, name: name, suite: suite))
    }
  }

  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "import",
      abstract: "Import an OCI image layout or a docker-archive tarball (what podman/docker save write).")
    @Argument var file: String
    @Argument var name: String

    func run() throws {
      // The daemon resolves the path in its own working directory: send an absolute one.
      var path = file
      if !path.hasPrefix("/"), let cwd = getcwd(nil, 0) {
        path = String(cString: cwd) + "/" + path
        free(cwd)
      }
      let _: ImageInfo = try CLI.client.post(Endpoints.imageImport, ImportImageRequest(file: path, name: name))
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list", abstract: "List the images.")
    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() throws {
      let images: [ImageInfo] = try CLI.client.get(Endpoints.images)
      switch format {
      case .json: try Output.json(images)
      case .table:
        Output.table(
          ["NAME", "SOURCE", "SIZE", "USED BY", "CREATED"],
          images.map { [$0.name, $0.source.rawValue, "\($0.size)", "\($0.usedBy.count)", $0.created] })
      }
    }
  }

  struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "delete", abstract: "Delete an image no guest uses.")
    @Argument var name: String

    func run() throws { try CLI.client.delete(Endpoints.image(name)) }
  }
}
