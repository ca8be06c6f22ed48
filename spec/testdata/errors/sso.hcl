project "clinic" {
  title = "Clinic"
}

role "clinician" {
  permissions = ["users:read"]
}

application "portal" {
  type          = "confidential"
  grant_types   = ["authorization_code"]
  redirect_uris = ["https://portal.example.org/cb"]
}

sso_provider "Hospital IdP" { # ERROR: Invalid sso_provider name
  issuer            = "https://login.hospital.example.org"
  client_id         = "clinic"
  client_secret_env = "HOSPITAL_SECRET"
}

sso_provider "hospital" {
  title                 = " " # ERROR: Empty title
  issuer                = "http://login.hospital.example.org" # ERROR: Insecure issuer
  client_id             = "" # ERROR: Empty client ID
  client_secret_env     = "hospital-secret" # ERROR: Invalid environment variable name
  scopes                = ["email", "email", "Bad"] # ERROR: Missing openid scope # ERROR: Duplicate scope # ERROR: Invalid scope
  allowed_email_domains = ["@hospital.example.org", "hospital.example.org"] # ERROR: Invalid email domain
  default_roles         = ["clinician", "docter"] # ERROR: Unknown role in sso_provider
  claims {
    email      = "mail address" # ERROR: Invalid claim name
    first_name = "given_name"
  }
  claims { # ERROR: Duplicate claims block
  }
}

sso_provider "hospital" { # ERROR: Duplicate sso_provider "hospital"
  issuer            = "https://login.hospital.example.org/realms/a?x=1" # ERROR: Invalid issuer
  client_id         = "clinic"
  client_secret_env = "HOSPITAL_SECRET"
  create_users      = false
  default_roles     = ["clinician"] # ERROR: Default roles without user creation
}
