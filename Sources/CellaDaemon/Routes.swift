import CellaAPI
import NIOHTTP1

/// The API: every route and the one `CellaService` call it makes (Docs/api.yaml describes the same).
enum Routes {
  static let empty = EmptyReply()

  /// The body of a reply that carries nothing (DELETE).
  struct EmptyReply: Codable, Sendable {}

  static var table: [Route] {
    let g = Endpoints.guests + "/:name"
    let p = Endpoints.profiles + "/:name"
    let i = Endpoints.images + "/:name"
    let n = Endpoints.networks + "/:name"
    return [
      Route(.GET, Endpoints.prefix, .call { s, _ in try BodyCoding.reply(s.daemonInfo()) }),

      Route(.GET, Endpoints.guests, .call { s, _ in try BodyCoding.reply(s.listGuests()) }),
      Route(
        .POST, Endpoints.guests,
        .call { s, r in
          try BodyCoding.reply(s.createGuest(BodyCoding.decode(CreateGuestRequest.self, from: r.body)), status: 201)
        }),
      Route(.GET, g, .call { s, r in try BodyCoding.reply(s.guestInfo(r.name)) }),
      Route(
        .DELETE, g, query: ["force"],
        .call { s, r in
          try s.deleteGuest(r.name, force: r.flag("force"))
          return try BodyCoding.reply(empty)
        }),
      Route(.POST, g + "/start", .call { s, r in try BodyCoding.reply(s.startGuest(r.name)) }),
      Route(
        .POST, g + "/stop",
        .call { s, r in
          try BodyCoding.reply(
            s.stopGuest(r.name, BodyCoding.decode(StopRequest.self, from: r.body, fallback: StopRequest())))
        }),
      Route(
        .POST, g + "/restart",
        .call { s, r in
          try BodyCoding.reply(
            s.restartGuest(r.name, BodyCoding.decode(StopRequest.self, from: r.body, fallback: StopRequest())))
        }),
      Route(
        .POST, g + "/kill",
        .call { s, r in
          try BodyCoding.reply(
            s.killGuest(r.name, BodyCoding.decode(KillRequest.self, from: r.body, fallback: KillRequest())))
        }),

      Route(.GET, g + "/config", .call { s, r in try BodyCoding.reply(s.guestConfig(r.name)) }),
      Route(
        .PATCH, g + "/config",
        .call { s, r in
          try BodyCoding.reply(s.patchGuestConfig(r.name, BodyCoding.decode(ConfigPatch.self, from: r.body)))
        }),
      Route(
        .PUT, g + "/config",
        .call { s, r in
          try BodyCoding.reply(s.replaceGuestConfig(r.name, BodyCoding.decode(ConfigReplace.self, from: r.body)))
        }),

      Route(.GET, g + "/ports", .call { s, r in try BodyCoding.reply(s.listPorts(r.name)) }),
      Route(
        .POST, g + "/ports",
        .call { s, r in
          try BodyCoding.reply(s.addPort(r.name, BodyCoding.decode(AddPortRequest.self, from: r.body)), status: 201)
        }),
      Route(
        .DELETE, g + "/ports/:proto/:port", query: ["address"],
        .call { s, r in
          guard let port = Int(r.params[2]) else {
            throw DaemonError(.invalidArgument, "port \"\(r.params[2])\": not a number")
          }
          try s.removePort(r.name, proto: r.params[1], hostPort: port, hostAddress: r.query["address"])
          return try BodyCoding.reply(empty)
        }),

      Route(
        .GET, g + "/logs",
        .call { s, r in APIReply(status: 200, contentType: "text/plain; charset=utf-8", body: try s.logs(r.name)) }),
      Route(
        .GET, g + "/console", query: ["history", "readonly"],
        .stream { s, r in
          .console(try s.attachConsole(r.name, history: r.flag("history")), readonly: try r.flag("readonly"))
        }),
      Route(
        .POST, g + "/exec",
        .call { s, r in
          try BodyCoding.reply(s.prepareExec(r.name, BodyCoding.decode(ExecRequest.self, from: r.body)), status: 201)
        }),
      Route(.GET, Endpoints.prefix + "/exec/:id", .stream { s, r in .exec(try s.startExec(r.name)) }),

      Route(.GET, Endpoints.images, .call { s, _ in try BodyCoding.reply(s.listImages()) }),
      Route(
        .POST, Endpoints.imageBuild,
        .call { s, r in
          try BodyCoding.reply(s.buildImage(BodyCoding.decode(BuildImageRequest.self, from: r.body)), status: 201)
        }),
      Route(
        .POST, Endpoints.imageImport,
        .call { s, r in
          try BodyCoding.reply(s.importImage(BodyCoding.decode(ImportImageRequest.self, from: r.body)), status: 201)
        }),
      Route(.GET, i, .call { s, r in try BodyCoding.reply(s.imageInfo(r.name)) }),
      Route(
        .DELETE, i,
        .call { s, r in
          try s.deleteImage(r.name)
          return try BodyCoding.reply(empty)
        }),

      Route(.GET, Endpoints.profiles, .call { s, _ in try BodyCoding.reply(s.listProfiles()) }),
      Route(
        .POST, Endpoints.profiles,
        .call { s, r in
          try BodyCoding.reply(s.createProfile(BodyCoding.decode(CreateProfileRequest.self, from: r.body)), status: 201)
        }),
      Route(.GET, p, .call { s, r in try BodyCoding.reply(s.profile(r.name)) }),
      Route(
        .PATCH, p,
        .call { s, r in try BodyCoding.reply(s.patchProfile(r.name, BodyCoding.decode(ConfigPatch.self, from: r.body)))
        }),
      Route(
        .PUT, p,
        .call { s, r in
          try BodyCoding.reply(s.replaceProfile(r.name, BodyCoding.decode(ConfigReplace.self, from: r.body)))
        }),
      Route(
        .DELETE, p,
        .call { s, r in
          try s.deleteProfile(r.name)
          return try BodyCoding.reply(empty)
        }),

      Route(.GET, Endpoints.networks, .call { s, _ in try BodyCoding.reply(s.listNetworks()) }),
      Route(
        .POST, Endpoints.networks,
        .call { s, r in
          try BodyCoding.reply(s.createNetwork(BodyCoding.decode(CreateNetworkRequest.self, from: r.body)), status: 201)
        }),
      Route(.GET, n, .call { s, r in try BodyCoding.reply(s.network(r.name)) }),
      Route(
        .DELETE, n,
        .call { s, r in
          try s.deleteNetwork(r.name)
          return try BodyCoding.reply(empty)
        }),
    ]
  }
}
