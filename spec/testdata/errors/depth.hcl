project "clinic" {
  title = "Clinic"
}

model "deep" {
  field "l1" {
    type = "object"
    field "l2" {
      type = "object"
      field "l3" {
        type = "object"
        field "l4" {
          type = "object"
          field "l5" {
            type = "object"
            field "l6" {
              type = "object"
              field "l7" {
                type = "object"
                field "l8" {
                  type = "object"
                  field "l9" {
                    type = "array"
                    items {
                      type = "object"
                      field "l11" { # ERROR: Fields nested too deeply
                        type = "string"
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
