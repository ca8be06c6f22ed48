project "clinic" {
  title = "Clinic"
}

auth {
  access_token_ttl  = "2h" # ERROR: Duration out of range
  refresh_token_ttl = "30 days" # ERROR: Invalid duration
  registration      = "opne" # ERROR: Unknown registration mode
}

auth { # ERROR: Duplicate auth block
  access_token_ttl  = "-5m" # ERROR: Invalid duration
  refresh_token_ttl = "400d" # ERROR: Duration out of range
  registration      = "sometimes" # ERROR: Unknown registration mode
}
