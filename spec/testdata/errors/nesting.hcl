project "clinic" {
  title = "Clinic"
}

model "measurement" {
  field "device" { # ERROR: Missing nested fields
    type = "object"
  }
  field "tags" { # ERROR: Missing items block
    type = "array"
  }
  field "serial" {
    type = "string"
    field "part" { # ERROR: Unexpected nested field
      type = "string"
    }
  }
  field "note" {
    type = "string"
    items { # ERROR: Unexpected items block
      type = "string"
    }
  }
  field "readings" {
    type = "array"
    items {
      type = "integer"
    }
    items { # ERROR: Duplicate items block
      type = "number"
    }
  }
  field "matrix" {
    type = "array"
    items { # ERROR: Missing items block
      type = "array"
    }
  }
  field "points" {
    type = "array"
    items {
      type = "object"
      field "x" {
        type = "number"
      }
      field "x" { # ERROR: Duplicate field "x"
        type = "number"
      }
    }
  }
  field "labels" {
    type = "array"
    items "label" { # ERROR: Extraneous label for items
      type = "string"
    }
  }
  field "unknown" {
    type = "strng" # ERROR: Unknown field type
    field "inner" {
      type = "strng" # ERROR: Unknown field type
    }
  }
}
