model "measurement" {
  description = "One blood-pressure reading taken by a patient with a connected cuff."

  field "systolic" {
    type        = "integer"
    description = "Systolic pressure in mmHg."
    required    = true
    minimum     = 40
    maximum     = 300
  }

  field "diastolic" {
    type        = "integer"
    description = "Diastolic pressure in mmHg."
    required    = true
    minimum     = 20
    maximum     = 200
  }

  field "pulse" {
    type        = "integer"
    description = "Heart rate in beats per minute."
    minimum     = 20
    maximum     = 250
  }

  field "taken_at" {
    type        = "datetime"
    description = "When the reading was taken, with its UTC offset."
    required    = true
    indexed     = true
  }

  field "arm" {
    type        = "string"
    description = "The arm the cuff was on."
    enum        = ["left", "right"]
    default     = "left"
  }

  field "position" {
    type        = "string"
    description = "The patient's position during the reading."
    enum        = ["sitting", "standing", "lying"]
  }

  field "irregular_heartbeat" {
    type        = "boolean"
    description = "Whether the cuff detected an irregular heartbeat."
  }

  field "note" {
    type        = "string"
    description = "A free-text remark by the patient."
    max_length  = 500
  }

  field "device" {
    type        = "object"
    description = "The cuff that took the reading."

    field "serial" {
      type       = "string"
      required   = true
      min_length = 4
      max_length = 64
      pattern    = "^[A-Z0-9-]+$"
    }

    field "model" {
      type       = "string"
      max_length = 100
    }

    field "firmware" {
      type       = "string"
      max_length = 32
    }
  }

  field "samples" {
    type        = "array"
    description = "The raw cuff pressure curve, for devices that upload it."
    max_items   = 600

    items {
      type = "object"

      field "offset_ms" {
        type     = "integer"
        required = true
        minimum  = 0
      }

      field "pressure" {
        type     = "number"
        required = true
        minimum  = 0
        maximum  = 400
      }
    }
  }

  field "tags" {
    type      = "array"
    max_items = 10

    items {
      type       = "string"
      max_length = 32
    }
  }

  # Readings follow the patient's clinic enlistments (group_sync): clinic
  # staff read them with data:measurement:read in their group role and
  # review them with data:measurement:update. The patient may share a
  # reading with another user (a family doctor) by linking them.
  access {
    create     = ["all_users"]
    read       = ["creator", "linked_users", "linked_group_staff", "permission"]
    update     = ["creator", "linked_group_staff", "permission"]
    delete     = ["creator", "permission"]
    link       = ["creator", "permission"]
    group_sync = "creator_patient_groups"
  }
}
