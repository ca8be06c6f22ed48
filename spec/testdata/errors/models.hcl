project "clinic" {
  title = "Clinic"
}

model "measurement" {
  description = "A reading."
  field "systolic" {
    type = "integer"
  }
}

model "measurement" { # ERROR: Duplicate model "measurement"
  field "diastolic" {
    type = "integer"
  }
}

model "users" { # ERROR: Reserved model name
  field "name" {
    type = "string"
  }
}

model "BloodPressure" { # ERROR: Invalid model name # ERROR: Model without fields
  description = ["not", "a", "string"] # ERROR: Incorrect attribute value type
  feild "x" { # ERROR: Unsupported block type
  }
  title = "x" # ERROR: Unsupported argument
}

model { # ERROR: Missing name for model
}
