project "tiny" {
  title = "Tiny"
}

role "reader" {
  permissions = ["data:note:read"]
}

model "note" {
  description = "A short note."

  field "text" {
    type       = "string"
    required   = true
    max_length = 140
  }

  field "pinned" {
    type    = "boolean"
    default = false
  }

  field "due" {
    type    = "date"
    indexed = true
  }

  field "meta" {
    type = "object"

    field "source" {
      type = "string"
      enum = ["web", "app"]
    }
  }

  field "scores" {
    type = "array"

    items {
      type    = "number"
      minimum = 0
    }
  }
}
