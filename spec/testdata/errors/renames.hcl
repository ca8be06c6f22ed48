project "clinic" {
  title = "Clinic"
}

model "reading" {
  renamed_from = "measurement"
  field "side" {
    type         = "string"
    renamed_from = "arm"
  }
  field "limb" {
    type         = "string"
    renamed_from = "arm" # ERROR: Ambiguous rename source
  }
  field "pulse" {
    type         = "integer"
    renamed_from = "side" # ERROR: Ambiguous rename source
  }
  field "note" {
    type         = "string"
    renamed_from = "note" # ERROR: Renamed from itself
  }
  field "posture" {
    type         = "string"
    renamed_from = "Position" # ERROR: Invalid field name
  }
  field "device" {
    type = "object"
    field "serial" {
      type         = "string"
      renamed_from = "sn"
    }
    field "maker" {
      type         = "string"
      renamed_from = "sn" # ERROR: Ambiguous rename source
    }
    field "model" {
      type         = "string"
      renamed_from = "model" # ERROR: Renamed from itself
    }
  }
  field "tags" {
    type = "array"
    items {
      type         = "string"
      renamed_from = "x" # ERROR: Unsupported argument
    }
  }
}

model "reading_v2" {
  renamed_from = "measurement" # ERROR: Ambiguous rename source
  field "x" {
    type = "string"
  }
}

model "profile" {
  renamed_from = "reading" # ERROR: Ambiguous rename source
  field "x" {
    type = "string"
  }
}

model "note" {
  renamed_from = 42 # ERROR: Incorrect attribute value type
  field "x" {
    type = "string"
  }
}
