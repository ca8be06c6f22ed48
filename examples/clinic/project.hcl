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

  # Administrators manage users, roles and clinics: they sign in with a
  # second factor (SECURITY.md MFA-5). Until they set one up, a login
  # answers mfa_enrollment_required with a token that can only enrol.
  mfa {
    required_for_roles = ["admin"]
  }
}
