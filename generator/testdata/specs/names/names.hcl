# Names that ogen spells differently from a plain CamelCase (initialisms)
# or that are Go keywords: the generated backend must still compile.
project "names" {
  title = "Names"
}

model "url" {
  field "type" {
    type     = "string"
    required = true
  }
  field "id_card" {
    type = "string"
  }
  field "http_api" {
    type = "object"
    field "func" {
      type = "integer"
    }
    field "range" {
      type = "array"
      items {
        type = "string"
      }
    }
  }
}

model "patient_id_card" {
  field "uuid" {
    type = "uuid"
  }
  field "json_blob" {
    type = "object"
    field "map" {
      type = "boolean"
    }
  }
}
