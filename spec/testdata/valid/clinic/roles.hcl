role "admin" {
  description = "Operates the platform."
  permissions = ["*:*:*"]
}

role "clinician" {
  description = "Reviews measurements of every patient."
  permissions = [
    "data:measurement:read",
    "data:measurement:update",
    "data:device:read",
    "users:read",
    "groups:read",
  ]
}

role "support" {
  permissions = ["users:*", "mail:read", "data:*:read"]
}

group_role "clinic_staff" {
  description = "Staff of one clinic."
  permissions = ["data:measurement:read", "groups:patients:read"]
}

group_role "clinic_admin" {
  permissions = ["groups:*", "groups:staff:*"]
}
