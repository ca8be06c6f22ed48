# A spec with the mistakes people make most: a typo in a field type, an
# argument name and a permission's model, and a model declared twice. Each
# offending line says which error it must produce.

project "clinic" {
  title = "Blood pressure clinic"
}

role "clinician" {
  permissions = ["users:read", "data:measurment:read"] # ERROR: Unknown model in permission
}
