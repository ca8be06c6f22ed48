project "Clinic" { # ERROR: Invalid project name
  title       = " " # ERROR: Empty title
  version     = "v1" # ERROR: Invalid version
  description = 42 # ERROR: Incorrect attribute value type
  languages   = ["en", "EN_us", "en", "english"] # ERROR: Invalid language code # ERROR: Duplicate language # ERROR: Invalid language code
  titel       = "Typo" # ERROR: Unsupported argument
  server_url  = "api.example.org" # ERROR: Invalid URL
  license_url = "ftp://example.org/license" # ERROR: License URL without a license # ERROR: Invalid URL
}

project "second" { # ERROR: Duplicate project block
  title = "Second"
}
