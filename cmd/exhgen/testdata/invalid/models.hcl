model "measurement" {
  field "systolic" {
    type    = "integr" # ERROR: Unknown field type
    requird = true # ERROR: Unsupported argument
  }
}

model "measurement" { # ERROR: Duplicate model "measurement"
  field "pulse" {
    type = "integer"
  }
}
