model "patient_profile" {
  description = "A patient's clinical profile, kept by the patient and read by their clinic."

  field "date_of_birth" {
    type        = "date"
    description = "The patient's date of birth."
    required    = true
  }

  field "sex" {
    type        = "string"
    description = "Sex assigned at birth, as used by the risk scores."
    enum        = ["female", "male", "other", "unknown"]
    default     = "unknown"
  }

  field "height_cm" {
    type    = "number"
    minimum = 40
    maximum = 260
  }

  field "weight_kg" {
    type    = "number"
    minimum = 1
    maximum = 400
  }

  field "target_systolic" {
    type        = "integer"
    description = "The systolic target agreed with the clinician, in mmHg."
    minimum     = 80
    maximum     = 200
  }

  field "clinician_id" {
    type        = "uuid"
    description = "The user id of the treating clinician."
    indexed     = true
  }

  field "contact_email" {
    type        = "email"
    description = "Where reminders go, if not the account's email."
  }

  field "medications" {
    type      = "array"
    max_items = 50

    items {
      type = "object"

      field "name" {
        type       = "string"
        required   = true
        min_length = 1
        max_length = 200
      }

      field "dose" {
        type       = "string"
        max_length = 100
      }

      field "since" {
        type = "date"
      }
    }
  }

  access {
    create = ["all_users"]
    read   = ["creator", "linked_group_staff", "permission"]
    update = ["creator", "permission"]
    delete = ["permission"]
    link   = ["creator", "permission"]
    # The profile is shared with the clinics the patient is enlisted in.
    group_sync = "creator_patient_groups"
  }
}
