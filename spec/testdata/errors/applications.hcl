project "clinic" {
  title = "Clinic"
}

application "Mobile App" { # ERROR: Invalid application name
  type        = "public"
  grant_types = ["authorization_code"]
  redirect_uris = [
    "clinic://callback",
    "clinic://callback", # ERROR: Duplicate redirect URI
    "https://app.example.org/cb#frag", # ERROR: Invalid redirect URI
    "http://app.example.org/cb", # ERROR: Insecure redirect URI
    "/relative", # ERROR: Invalid redirect URI
    "http://127.0.0.1/callback",
  ]
}

application "portal" {
  type        = "secret" # ERROR: Unknown application type
  grant_types = ["authorization_code", "implicit", "refresh_tokn", "authorization_code"] # ERROR: Missing redirect URIs # ERROR: Unsupported grant type # ERROR: Unknown grant type # ERROR: Duplicate grant type
  scopes      = ["openid", "openid", "Bad Scope"] # ERROR: Duplicate scope # ERROR: Invalid scope
  access_token_ttl  = "2h" # ERROR: Duration out of range
  refresh_token_ttl = "400d" # ERROR: Duration out of range
}

application "portal" { # ERROR: Duplicate application "portal"
  type        = "confidential"
  grant_types = ["client_credentials"]
}

application "device" {
  type        = "public"
  grant_types = ["client_credentials", "refresh_token"] # ERROR: Client credentials for a public application # ERROR: Refresh token without a user grant
  redirect_uris = ["https://x.example.org/cb"] # ERROR: Redirect URIs without authorization code
}

application "gateway" {
  type              = "confidential"
  grant_types       = ["client_credentials"]
  refresh_token_ttl = "2d" # ERROR: Refresh token lifetime without refresh tokens
}

application "legacy" {
  type        = "public"
  grant_types = ["password", "refresh_token"] # WARNING: Password grant
  access_token_ttl  = "10m"
  refresh_token_ttl = "5m" # ERROR: Duration out of range
}

application "empty" {
  type        = "public"
  grant_types = [] # ERROR: Empty grant type list
}
