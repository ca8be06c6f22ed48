project "clinic" {
  title = "Clinic"
}

sso_provider "hospital" { # ERROR: SSO provider without a login page
  issuer            = "https://login.hospital.example.org"
  client_id         = "clinic"
  client_secret_env = "HOSPITAL_SECRET"
}
