project "clinic" {
  title = "Clinic"
}

model "measurement" {
  field "arm" {
    type = "string"
    enum = ["left", "right", "left"] # ERROR: Duplicate enum value
  }
  field "position" {
    type = "string"
    enum = [] # ERROR: Empty enum
  }
  field "cuff" {
    type       = "string"
    max_length = 5
    pattern    = "^[a-z]+$"
    enum       = ["small", "medium", "Large"] # ERROR: Invalid enum value # ERROR: Invalid enum value
  }
  field "size" {
    type       = "string"
    min_length = 2
    enum       = ["s", "m", true] # ERROR: Incorrect attribute value type
  }
}
