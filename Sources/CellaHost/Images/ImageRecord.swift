import CellaAPI

/// What the store keeps about one image: images/NAME/image.yaml (the API's ImageInfo without usedBy).
public struct ImageRecord: Sendable, Equatable, Codable {
  public var name: String
  public var source: ImageSource
  /// The file or suite it was made from.
  public var origin: String?
  /// When it was made (RFC 3339, UTC).
  public var created: String
  /// Bytes on disk of its root filesystem.
  public var size: UInt64
  /// The default process of its guests.
  public var process: ImageProcess

  public init(
    name: String, source: ImageSource, origin: String?, created: String, size: UInt64, process: ImageProcess
  ) {
    self.name = name
    self.source = source
    self.origin = origin
    self.created = created
    self.size = size
    self.process = process
  }

  /// The API's view of it, with the guests that use it.
  public func info(usedBy: [String]) -> ImageInfo {
    ImageInfo(
      name: name, source: source, origin: origin, created: created, size: size, process: process, usedBy: usedBy)
  }
}
