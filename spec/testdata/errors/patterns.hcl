project "clinic" {
  title = "Clinic"
}

model "code" {
  field "a" {
    type    = "string"
    pattern = "([a-z]" # ERROR: Invalid pattern
  }
  field "b" {
    type    = "string"
    pattern = "(?i)^abc$" # ERROR: Unsupported pattern syntax
  }
  field "c" {
    type    = "string"
    pattern = "\\Aabc\\z" # ERROR: Unsupported pattern syntax
  }
  field "d" {
    type    = "string"
    pattern = "(?P<year>[0-9]{4})" # ERROR: Unsupported pattern syntax
  }
  field "e" {
    type    = "string"
    pattern = "[[:alpha:]]+" # ERROR: Unsupported pattern syntax
  }
  field "f" {
    type    = "string"
    pattern = "\\pL+" # ERROR: Unsupported pattern syntax
  }
  field "g" {
    type    = "string"
    pattern = "\\Q.*\\E" # ERROR: Unsupported pattern syntax
  }
  field "h" {
    type    = "string"
    pattern = "[]a]" # ERROR: Unsupported pattern syntax
  }
  field "i" {
    type    = "string"
    pattern = "\\x{41}" # ERROR: Unsupported pattern syntax
  }
  field "j" {
    type    = "string"
    pattern = "\\101" # ERROR: Unsupported pattern syntax
  }
  field "k" {
    type    = "string"
    pattern = "(?<year>[0-9]{4})-(?:[0-9]{2})\\.[\\]x]"
  }
  field "l" {
    type    = "string"
    pattern = "a{1001}" # ERROR: Invalid pattern
  }
}
