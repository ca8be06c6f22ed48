model "measurement" {
  description = "A blood pressure reading."

  field "systolic" {
    type        = "integer"
    description = "Systolic pressure, mmHg."
    required    = true
    minimum     = 40
    maximum     = 300
  }
  field "diastolic" {
    type     = "integer"
    required = true
    minimum  = 20
    maximum  = 200
  }
  field "pulse" {
    type    = "number"
    minimum = 0
    maximum = 250.5
  }
  field "taken_at" {
    type     = "datetime"
    required = true
    indexed  = true
  }
  field "arm" {
    type    = "string"
    enum    = ["left", "right"]
    default = "left"
  }
  field "irregular" {
    type    = "boolean"
    default = false
  }
  field "note" {
    type       = "string"
    min_length = 1
    max_length = 500
  }
  field "device" {
    type = "object"
    field "serial" {
      type     = "string"
      required = true
      pattern  = "^[A-Z0-9]{4,20}$"
    }
    field "firmware" {
      type = "string"
    }
    field "calibrated_on" {
      type = "date"
    }
  }
  field "tags" {
    type      = "array"
    min_items = 0
    max_items = 10
    items {
      type       = "string"
      max_length = 32
    }
  }
  field "readings" {
    type        = "array"
    description = "Raw cuff readings."
    items {
      type = "object"
      field "at" {
        type     = "datetime"
        required = true
      }
      field "pressure" {
        type = "array"
        items {
          type    = "number"
          minimum = 0
        }
      }
    }
  }

  access {
    create = ["all_users"]
    read   = ["creator", "linked_users", "linked_group_staff", "permission"]
    update = ["creator", "permission"]
    delete = "creator"
  }
}

model "device" {
  description = "A registered blood pressure monitor."

  field "serial" {
    type     = "string"
    required = true
    indexed  = true
  }
  field "owner_email" {
    type    = "email"
    default = "nobody@example.com"
  }
  field "pairing_id" {
    type = "uuid"
  }
  field "registered_on" {
    type    = "date"
    default = "2024-01-31"
  }
  field "retries" {
    type    = "integer"
    default = 3
    minimum = 0
  }
}
