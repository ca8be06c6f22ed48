# A project without models yet: identity only. Its backend must build.
project "nomodels" {
  title = "No models yet"
}

role "admin" {
  permissions = ["users:*"]
}
