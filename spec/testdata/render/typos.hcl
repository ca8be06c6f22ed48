project "clinic" {
  title     = "Blood pressure clinic"
  languages = ["en", "nl"]
}

role "clinician" {
  permissions = ["data:measurment:read", "users:read"]
}

model "measurement" {
  field "systolic" {
    type = "integr"
  }
  field "diastolic" {
    type     = "integer"
    minimum  = 200
    maximum  = 20
  }
}

model "measurement" {
  field "pulse" {
    type = "number"
  }
}
