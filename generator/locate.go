package generator

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/mod/modfile"
)

// LocateRuntime finds the root of this repository (the module generated
// backends build against): the EXHGEN_RUNTIME environment variable, else the
// source tree this binary was built from.
func LocateRuntime() (string, error) {
	if dir := os.Getenv("EXHGEN_RUNTIME"); dir != "" {
		return checkRuntime(dir)
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", fmt.Errorf("cannot locate the exhgen runtime sources (binary built with -trimpath?): set EXHGEN_RUNTIME to the exhgen repository")
	}
	return checkRuntime(filepath.Dir(filepath.Dir(file)))
}

func checkRuntime(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("exhgen runtime at %s: %w", dir, err)
	}
	if modfile.ModulePath(data) != RuntimeModule {
		return "", fmt.Errorf("exhgen runtime at %s: go.mod is not module %s", dir, RuntimeModule)
	}
	return dir, nil
}
