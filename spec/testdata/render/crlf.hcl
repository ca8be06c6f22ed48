project "clinic" {
  title = "Clinic"
  version = "one"
}
