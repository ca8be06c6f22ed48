project "clinic" {
  title = "Clinic"
}

model {
  field "x" {
    type = "string"
  }
}

model "note" {
  field "tags" {
    type = "array"
    items "label" {
      type = "string"
    }
  }
  field "body" {
    type = "object"
  }
}
