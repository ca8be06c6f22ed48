# A blood pressure monitoring app: patients measure at home, clinicians
# review the measurements of the patients of their clinic.
project "clinic" {
  title       = "Blood pressure clinic"
  description = "Home blood pressure monitoring with clinician review."
  version     = "1.2.0"
  languages   = ["en", "nl", "fr-BE"]
}

auth {
  access_token_ttl  = "10m"
  refresh_token_ttl = "30d"
  registration      = "invite"
}
