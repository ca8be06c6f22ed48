project "clinic" {
  title = "Clinic"
}

model "measurement" {
  field "systolic" {
    type = "integer" "extra" # ERROR: Missing newline after argument
  }
}
