# ERROR: Missing project block
model "measurement" {
  field "systolic" {
    type = "integer"
  }
}
