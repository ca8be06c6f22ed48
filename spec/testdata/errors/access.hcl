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

group_role "clinic_viewer" {
  permissions = ["data:report:read"]
}

model "report" {
  field "summary" {
    type = "string"
  }
  access {
    read       = ["creator", "linked_group_staff"]
    update     = ["creator", "linked_group_staff"] # ERROR: Access rule grants nobody
    link       = ["creator", "linked_group_patient"] # ERROR: Unknown access rule
    unlink     = ["creator"]
    group_sync = "creator_patient_group" # ERROR: Unknown group sync mode
  }
}
