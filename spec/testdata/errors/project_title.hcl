project "clinic" { # ERROR: Missing required argument
  languages = [] # ERROR: Empty language list
}

project "clinic" { # ERROR: Duplicate project block
  title     = null # ERROR: Missing required argument
  languages = "en" # ERROR: Incorrect attribute value type
}
