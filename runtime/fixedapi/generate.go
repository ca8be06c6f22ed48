package fixedapi

//go:generate go run ./internal/gen -spec openapi.yaml -out oas
