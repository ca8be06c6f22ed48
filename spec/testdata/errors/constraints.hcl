project "clinic" {
  title = "Clinic"
}

model "measurement" {
  field "systolic" {
    type       = "integer"
    minimum    = 300 # ERROR: Invalid bounds
    maximum    = 40
    min_length = 1 # ERROR: Constraint does not apply to type
    pattern    = "^[0-9]+$" # ERROR: Constraint does not apply to type
    enum       = ["1"] # ERROR: Constraint does not apply to type
    min_items  = 1 # ERROR: Constraint does not apply to type
  }
  field "diastolic" {
    type    = "integer"
    minimum = 1.5 # ERROR: Whole number required
    maximum = 1e20 # ERROR: Value out of range
  }
  field "pulse" {
    type    = "number"
    minimum = -0.5
    maximum = 1e400 # ERROR: Value out of range
  }
  field "ratio" {
    type    = "number"
    minimum = "low" # ERROR: Incorrect attribute value type
  }
  field "note" {
    type       = "string"
    min_length = 10 # ERROR: Invalid bounds
    max_length = 5
    minimum    = 1 # ERROR: Constraint does not apply to type
    max_items  = 3 # ERROR: Constraint does not apply to type
  }
  field "code" {
    type       = "string"
    min_length = -1 # ERROR: Value out of range
    max_length = 2.5 # ERROR: Whole number required
  }
  field "email" {
    type       = "email"
    max_length = 254
    pattern    = ".*@example.com" # ERROR: Constraint does not apply to type
  }
  field "tags" {
    type      = "array"
    min_items = 5 # ERROR: Invalid bounds
    max_items = 2
    max_length = 3 # ERROR: Constraint does not apply to type
    items {
      type = "string"
    }
  }
  field "count" {
    type       = "integer"
    max_length = 99999999999 # ERROR: Constraint does not apply to type # ERROR: Value out of range
  }
}
