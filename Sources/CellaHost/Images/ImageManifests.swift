import CellaAPI
import Foundation

/// The JSON documents of OCI image layouts and docker archives that an import reads.
enum ImageManifests {
  /// A content descriptor: what a blob is and its digest.
  struct Descriptor: Decodable {
    var mediaType: String?
    var digest: String
    var platform: Platform?
  }

  struct Platform: Decodable {
    var os: String?
    var architecture: String?
  }

  /// index.json, or an image index blob.
  struct Index: Decodable {
    var manifests: [Descriptor]
  }

  /// An image manifest.
  struct Manifest: Decodable {
    var mediaType: String?
    var config: Descriptor
    var layers: [Descriptor]
  }

  /// One image of a docker archive's manifest.json.
  struct DockerImage: Decodable {
    var config: String
    var layers: [String]
    enum CodingKeys: String, CodingKey {
      case config = "Config"
      case layers = "Layers"
    }
  }

  /// The image configuration: its default process and the digests of its uncompressed layers.
  struct ImageConfig: Decodable {
    struct Process: Decodable {
      var entrypoint: [String]?
      var cmd: [String]?
      var env: [String]?
      var workingDir: String?
      var user: String?
      var stopSignal: String?
      enum CodingKeys: String, CodingKey {
        case entrypoint = "Entrypoint"
        case cmd = "Cmd"
        case env = "Env"
        case workingDir = "WorkingDir"
        case user = "User"
        case stopSignal = "StopSignal"
      }
    }
    struct RootFS: Decodable {
      var diffIDs: [String]?
      enum CodingKeys: String, CodingKey { case diffIDs = "diff_ids" }
    }
    var config: Process?
    var rootfs: RootFS?

    /// The process an image gives its guests; empty strings count as unset.
    var process: ImageProcess {
      let c = config
      func nonEmpty(_ s: String?) -> String? { (s?.isEmpty ?? true) ? nil : s }
      return ImageProcess(
        entrypoint: c?.entrypoint, cmd: c?.cmd, env: c?.env, workingDir: nonEmpty(c?.workingDir),
        user: nonEmpty(c?.user), stopSignal: nonEmpty(c?.stopSignal))
    }
  }

  /// Decodes `bytes` as `T`, the error naming `what`.
  static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ what: String) throws(HostError) -> T {
    do {
      return try JSONDecoder().decode(T.self, from: Data(bytes))
    } catch let DecodingError.keyNotFound(key, _) {
      throw HostError(.invalidArgument, "\(what): missing \(key.stringValue)")
    } catch let DecodingError.typeMismatch(_, context) {
      throw HostError(.invalidArgument, "\(what): wrong type at \(path(context.codingPath))")
    } catch let DecodingError.valueNotFound(_, context) {
      throw HostError(.invalidArgument, "\(what): null at \(path(context.codingPath))")
    } catch {
      throw HostError(.invalidArgument, "\(what): not valid JSON")
    }
  }

  private static func path(_ keys: [any CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
  }

  /// The hex part of a `sha256:` digest; other algorithms are refused and malformed digests too.
  static func sha256Hex(_ digest: String, _ what: String) throws(HostError) -> String {
    guard digest.hasPrefix("sha256:") else {
      throw HostError(.unsupported, "\(what): digest \(quote(digest)) is not sha256")
    }
    let hex = String(digest.dropFirst(7))
    guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
      throw HostError(.invalidArgument, "\(what): malformed digest \(quote(digest))")
    }
    return hex
  }

  /// The GOARCH name of this machine, as image platforms spell it.
  static var hostArchitecture: String {
    #if arch(x86_64)
      return "amd64"
    #elseif arch(arm64)
      return "arm64"
    #else
      return "unknown"
    #endif
  }
}
