# A blood-pressure monitoring service: patients measure at home with a
# connected cuff, clinicians of their clinic review the readings.

project "clinic" {
  title       = "Blood pressure clinic"
  description = "Home blood-pressure monitoring: patients upload readings from a connected cuff; clinicians of their clinic review them."
  version     = "1.0.0"
  languages   = ["en", "nl"]
  server_url  = "https://api.bp-clinic.test"
  license     = "Proprietary"
  license_url = "https://bp-clinic.test/api-terms"
}

auth {
  access_token_ttl  = "15m"
  refresh_token_ttl = "30d"
  registration      = "open"
}
