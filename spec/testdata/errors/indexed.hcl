project "clinic" {
  title = "Clinic"
}

model "measurement" {
  field "taken_at" {
    type    = "datetime"
    indexed = true
  }
  field "device" {
    type    = "object"
    indexed = true # ERROR: Field cannot be indexed
    field "serial" {
      type    = "string"
      indexed = true # ERROR: Field cannot be indexed
    }
  }
  field "tags" {
    type = "array"
    items {
      type    = "string"
      indexed = true # ERROR: Unsupported argument
    }
  }
}
