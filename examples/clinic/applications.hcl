# The OAuth2 clients of the clinic: every login goes through one of them.

# The patients' phone app: a public client (it cannot keep a secret), so
# authorization code with PKCE (always required) and refresh tokens.
application "mobile" {
  description   = "The patients' blood-pressure app for iOS and Android."
  type          = "public"
  grant_types   = ["authorization_code", "refresh_token"]
  redirect_uris = ["clinic://oauth/callback", "http://127.0.0.1/oauth/callback"]
  scopes        = ["openid", "profile", "email", "offline_access"]
}

# The clinicians' web portal: a confidential server-side client with short
# tokens, since it is used on shared workstations.
application "portal" {
  description       = "The clinicians' review portal."
  type              = "confidential"
  grant_types       = ["authorization_code", "refresh_token"]
  redirect_uris     = ["https://portal.clinic.example/oauth/callback"]
  scopes            = ["openid", "profile", "email", "offline_access"]
  access_token_ttl  = "10m"
  refresh_token_ttl = "12h"
}

# The device gateway that uploads readings from connected cuffs.
application "gateway" {
  description = "Uploads readings of connected blood-pressure cuffs."
  type        = "confidential"
  grant_types = ["client_credentials"]
  scopes      = ["measurements:write"]
}
