project "clinic" {
  title = "Clinic"
}

model "measurement" {
  field "systolic" {
    type = "integr" # ERROR: Unknown field type
  }
  field "diastolic" {
    type = "int" # ERROR: Unknown field type
  }
  field "pulse" {
    type = "frobnicate" # ERROR: Unknown field type
  }
  field "arm" {
    type = 5 # ERROR: Incorrect attribute value type
  }
  field "note" { # ERROR: Missing required argument
    description = "no type"
  }
  field "id" { # ERROR: Reserved field name
    type = "uuid"
  }
  field "Taken_At" { # ERROR: Invalid field name
    type = "datetime"
  }
  field "systolic" { # ERROR: Duplicate field "systolic"
    type = "integer"
  }
  field "flags" {
    type     = "boolean"
    required = "yes" # ERROR: Incorrect attribute value type
    indexed  = 1 # ERROR: Incorrect attribute value type
    minimun  = 3 # ERROR: Unsupported argument
  }
  field "wrapper" {
    type = "object"
    field "status" {
      type = "string"
    }
    field "status" { # ERROR: Duplicate field "status"
      type = "string"
    }
    field "Inner" { # ERROR: Invalid field name
      type = "string"
    }
  }
}
