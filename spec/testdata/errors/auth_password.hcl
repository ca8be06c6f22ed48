project "clinic" {
  title = "Clinic"
}

auth {
  user_deletion = "erase" # ERROR: Unknown user deletion mode
  password {
    min_length = 8 # ERROR: Value out of range
    max_length = 200 # ERROR: Value out of range
  }
  password { # ERROR: Duplicate password block
    min_length = 40
    max_length = 32 # ERROR: Value out of range
    mixed_case = true # ERROR: Unsupported argument
  }
}
