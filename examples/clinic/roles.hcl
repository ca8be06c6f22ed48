# Global roles, granted by an administrator.

role "admin" {
  description = "Manages users, roles and clinics."
  permissions = ["users:*", "groups:*", "roles:*", "data:*:*"]
}

# A clinician sees patients' data only through the clinic they work for:
# the clinic_staff group role below, matched by the models'
# linked_group_staff access rule. No global data permission here, so one
# clinic's staff never read another clinic's patients.
role "clinician" {
  description = "A physician or nurse who reviews the readings of patients."
  permissions = ["users:read"]
}

# A support role across clinics, granted sparingly.
role "data_steward" {
  description = "Corrects mistaken readings on request of a patient."
  permissions = ["data:measurement:read", "data:measurement:update", "data:measurement:delete"]
}

# Roles a user holds within one clinic (a group).

group_role "clinic_staff" {
  description = "Staff of a clinic: sees the readings of the clinic's patients."
  permissions = ["data:measurement:read", "data:patient_profile:read"]
}

group_role "clinic_manager" {
  description = "Manages a clinic's staff and patient enlistments."
  permissions = ["groups:update", "data:measurement:read", "data:patient_profile:*"]
}
