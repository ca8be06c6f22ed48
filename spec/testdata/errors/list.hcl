project "clinic" {
  title = "Clinic"
}

model "measurement" {
  field "systolic" {
    type = "integer"
  }
  list {
    default_limit = 50
    max_limit     = 20 # ERROR: Default limit above maximum
  }
  list { # ERROR: Duplicate list block
    max_limit = 10
  }
}

model "reading" {
  field "systolic" {
    type = "integer"
  }
  list {
    default_limit = 0    # ERROR: Value out of range
    max_limit     = 5000 # ERROR: Value out of range
    page_size     = 3    # ERROR: Unsupported argument
  }
}

model "sample" {
  field "value" {
    type = "number"
  }
  list {
    default_limit = 2.5 # ERROR: Whole number required
  }
}

model "note" {
  field "text" {
    type = "string"
  }
  list {
    default_limit = 200 # ERROR: Default limit above maximum
  }
}
