project "clinic" {
  title = "Clinic"
}

model "measurement" {
  field "systolic" {
    type     = "integer"
    required = true
    default  = 120
  }
  field "diastolic" {
    type    = "integer"
    default = 80.5 # ERROR: Invalid default value
  }
  field "pulse" {
    type    = "number"
    minimum = 30
    default = 10 # ERROR: Invalid default value
  }
  field "rate" {
    type    = "number"
    maximum = 30
    default = 31 # ERROR: Invalid default value
  }
  field "weight" {
    type    = "number"
    default = "heavy" # ERROR: Invalid default value
  }
  field "irregular" {
    type    = "boolean"
    default = "no" # ERROR: Invalid default value
  }
  field "arm" {
    type    = "string"
    enum    = ["left", "right"]
    default = "middle" # ERROR: Invalid default value
  }
  field "note" {
    type       = "string"
    max_length = 3
    default    = "too long" # ERROR: Invalid default value
  }
  field "code" {
    type    = "string"
    default = 7 # ERROR: Invalid default value
  }
  field "taken_on" {
    type    = "date"
    default = "31-01-2024" # ERROR: Invalid default value
  }
  field "taken_at" {
    type    = "datetime"
    default = "2024-01-31 12:00" # ERROR: Invalid default value
  }
  field "device_id" {
    type    = "uuid"
    default = "not-a-uuid" # ERROR: Invalid default value
  }
  field "contact" {
    type    = "email"
    default = "Jan <jan@example.com>" # ERROR: Invalid default value
  }
  field "device" {
    type    = "object"
    default = "x" # ERROR: Default not supported
    field "serial" {
      type = "string"
    }
  }
  field "big" {
    type    = "integer"
    default = 1e300 # ERROR: Invalid default value
  }
  field "huge" {
    type    = "number"
    default = 1e400 # ERROR: Value out of range
  }
  field "tags" {
    type = "array"
    items {
      type    = "string"
      default = "x" # ERROR: Unsupported argument
    }
  }
}
