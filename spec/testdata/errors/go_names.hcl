project "clinic" {
  title = "Clinic"
}

model "bp_2" {
  field "x_1" {
    type = "integer"
  }
  field "x1" { # ERROR: Conflicting field names
    type = "integer"
  }
}

model "bp2" { # ERROR: Conflicting model names
  field "value" {
    type = "integer"
  }
}

model "page" { # ERROR: Reserved model name
  field "value" {
    type = "integer"
  }
}

model "empty" { # ERROR: Model without fields
  access {
    read = ["creator"]
  }
}

model "note" {
  field "text" {
    type = "string"
  }
}

model "note_data" { # ERROR: Conflicting model names
  field "text" {
    type = "string"
  }
}

model "client" { # ERROR: Reserved model name
  field "name" {
    type = "string"
  }
}

model "opt_string" { # ERROR: Reserved model name
  field "name" {
    type = "string"
  }
}

model "device" {
  field "point" {
    type = "number"
  }
  field "set_point" { # ERROR: Conflicting field names
    type = "number"
  }
  field "validate" { # ERROR: Reserved field name
    type = "boolean"
  }
  field "settings" {
    type = "object"
    field "encode" { # ERROR: Reserved field name
      type = "string"
    }
  }
}
