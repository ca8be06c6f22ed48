project "clinic" {
  title = "Clinic"
}

auth {
  access_token_ttl  = "30m"
  refresh_token_ttl = "20m" # ERROR: Duration out of range
  mfa               = true # ERROR: Unsupported argument
}
