project { # ERROR: Missing name for project
  title = "No name"
}
