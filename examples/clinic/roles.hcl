# Global roles, granted by an administrator.

role "admin" {
  description = "Manages users, roles and clinics. Membership resources are named: wildcards never grant them."
  permissions = ["users:*", "users:roles:*", "groups:*", "groups:patients:*", "groups:staff:*", "roles:*", "data:*:*", "auth:applications:read", "auth:applications:update", "auth:keys:update", "auth:oauth1_credentials:create", "auth:oauth1_credentials:read", "auth:oauth1_credentials:delete"]
}

# A clinician sees patients' data only through the clinic they work for:
# the clinic_staff and clinic_viewer group roles below, matched by the
# models' linked_group_staff access rule. No global data permission here,
# so one clinic's staff never read another clinic's patients.
role "clinician" {
  description = "A physician or nurse who reviews the readings of patients."
  permissions = ["users:read"]
}

# Patients need no global permission: they reach their own documents as
# their creator, and their clinic through enlistment.
role "patient" {
  description = "Measures at home and shares the readings with their clinic."
  permissions = []
}

# A support role across clinics, granted sparingly.
role "data_steward" {
  description = "Corrects mistaken readings on request of a patient."
  permissions = ["data:measurement:read", "data:measurement:update", "data:measurement:delete"]
}

# Roles a user holds within one clinic (a group).

group_role "clinic_staff" {
  description = "Clinical staff: reads and reviews (annotates) the readings of the clinic's patients."
  permissions = [
    "data:measurement:read",
    "data:measurement:update",
    "data:patient_profile:read",
    "groups:patients:read",
    "groups:staff:read",
  ]
}

group_role "clinic_viewer" {
  description = "Read-only staff, such as a trainee: sees the readings but cannot review them."
  permissions = ["data:measurement:read", "groups:patients:read"]
}

# Enlisting a patient is an administrator's job (a global permission):
# with a group-level groups:patients:create, a clinic could enlist any user
# of the backend and, through group sync, read their earlier readings.
group_role "clinic_manager" {
  description = "Manages a clinic's details, managers and unenlistments; sees no clinical data."
  permissions = ["groups:read", "groups:update", "groups:patients:read", "groups:patients:delete", "groups:staff:*"]
}
