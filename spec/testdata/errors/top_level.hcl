project "clinic" {
  title = "Clinic"
}

title = "Misplaced" # ERROR: Unsupported argument

modle "measurement" {} # ERROR: Unsupported block type

field "systolic" { # ERROR: Unsupported block type
  type = "integer"
}
