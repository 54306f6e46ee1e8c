#!/bin/sh
# Regenerates the embedded copies of the shipped seccomp profiles:
#   Sources/CellaSecurity/DefaultSeccompProfile.swift  from Profiles/seccomp/default.json (cella-runtime spec)
#   Sources/CellaHost/Spec/StrictSeccompProfile.swift  from Profiles/seccomp/strict.json (security.profile=strict)
set -eu
cd "$(dirname "$0")/.."
embed() { # profile type out doc-use
  {
    echo "// Generated from Profiles/seccomp/$1.json by Scripts/embed-profiles.sh; a test keeps them equal."
    echo
    echo "/// The shipped $1 seccomp profile (Profiles/seccomp/$1.json), embedded for $4."
    echo "public enum $2 {"
    echo '  /// The profile'"'"'s JSON text.'
    echo '  public static let json = #"""'
    cat "Profiles/seccomp/$1.json"
    echo '"""#'
    echo '}'
  } > "$3"
  # The committed files are formatted (the string's indentation is stripped by Swift either way).
  if command -v swift >/dev/null; then swift format -i "$3"; fi
}
embed default DefaultSeccompProfile Sources/CellaSecurity/DefaultSeccompProfile.swift '`spec`'
embed strict StrictSeccompProfile Sources/CellaHost/Spec/StrictSeccompProfile.swift 'guests with `security.profile: strict`'
