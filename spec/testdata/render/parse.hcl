project "clinic" {
  title = "Clinic
}

model "note" {
