project "clinic" {
  title = "Clinic"
}

model "measurement" {
  field "systolic" {
    type = "integer"
  }
  access {
    create = "all_user" # ERROR: Unknown access rule
    read   = ["creater", "linked_users", "linked_users", "everyone"] # ERROR: Unknown access rule # ERROR: Duplicate access rule # ERROR: Unknown access rule
    update = [] # ERROR: Empty access rule list
    delete = 1 # ERROR: Incorrect attribute value type
    list   = ["creator"] # ERROR: Unsupported argument
  }
  access { # ERROR: Duplicate access block
    read = ["creator"]
  }
}
