project "clinic" {
  title       = var.title # ERROR: Variables not allowed
  description = upper("x") # ERROR: Function calls not allowed
  version     = "1.0.${0}"
  languages   = ["en", 1] # ERROR: Incorrect attribute value type
}
