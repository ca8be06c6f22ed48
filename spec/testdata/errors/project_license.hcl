project "clinic" {
  title       = "Clinic"
  license_url = "https://clinic.test/terms" # ERROR: License URL without a license
}

model "note" {
  field "text" {
    type = "string"
  }
}
