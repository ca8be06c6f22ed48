project "clinic" {
  title = "Clinic"
}

role "clinician" {
  permissions = ["users:read"]
}

auth {
  mfa {
    required_for_roles = ["clinician", "docter"] # ERROR: Unknown role in mfa
  }
  mfa { # ERROR: Duplicate mfa block
  }
}
