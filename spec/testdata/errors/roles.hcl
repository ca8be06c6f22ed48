project "clinic" {
  title = "Clinic"
}

model "measurement" {
  field "systolic" {
    type = "integer"
  }
}

role "clinician" {
  permissions = [
    "data:measurment:read", # ERROR: Unknown model in permission
    "data:measurement:reed", # ERROR: Unknown permission action
    "user:read", # ERROR: Unknown permission service
    "data:read", # ERROR: Invalid permission
    "users", # ERROR: Invalid permission
    "users:read:all:now", # ERROR: Invalid permission
    "users:Read", # ERROR: Invalid permission
    "data:measurement:transition:review", # ERROR: Unsupported permission
    "data:blood:read", # ERROR: Unknown model in permission
    "billing:read", # ERROR: Unknown permission service
    "users:list", # ERROR: Unknown permission action
    "data:measurement:read",
    "data:measurement:read", # ERROR: Duplicate permission
    "data:*:*",
    "*:*",
    "data:measurement:link",
    "data:measurement:unlink",
    "data:measurement:lnk", # ERROR: Unknown permission action
    "groups:staff:create",
    "groups:staf:create", # ERROR: Unknown permission resource
    "groups:patients:enlist", # ERROR: Unknown permission action
    "mail:templates:read", # ERROR: Unknown permission resource
    "users:roles:*",
    "*:*:*",
    "*:*:reed", # ERROR: Unknown permission action
  ]
}

role "clinician" { # ERROR: Duplicate role "clinician"
  permissions = "users:read" # ERROR: Incorrect attribute value type
}

role "Doctor" { # ERROR: Invalid role name
  permision = ["users:read"] # ERROR: Unsupported argument
}

group_role "clinic_staff" {
  permissions = ["groups:read"]
}

group_role "clinic_staff" { # ERROR: Duplicate group role "clinic_staff"
}

group_role "clinic-admin" { # ERROR: Invalid group role name
  permissions = ["groups:*", "data:measurement:updat"] # ERROR: Unknown permission action
}

group_role "clinic_viewer" {
  permissions = [
    "data:measurement:read",
    "groups:patients:read",
    "users:read", # ERROR: Permission not available to a group role
  ]
}

group_role "front_desk" {
  permissions = [
    "groups:patients:create", # WARNING: Group staff can enlist any user
    "groups:patients:read",
  ]
}
