project "minimal" {
  title = "Minimal"
}
