// Package testnode runs tests' Node.js scripts against the pinned packages
// `make test` installs (IMGORIGIN_TEST_NODE_MODULES).
package testnode

import (
	"os"
	"path/filepath"
	"testing"
)

// Script copies the script at src into a temporary directory beside a link
// to the installed node_modules, so that both require and import find the
// packages, and returns the copy's path. Without the packages the test fails.
func Script(t testing.TB, src string) string {
	t.Helper()
	modules := os.Getenv("IMGORIGIN_TEST_NODE_MODULES")
	if modules == "" {
		t.Fatal("IMGORIGIN_TEST_NODE_MODULES is not set: run the tests with `make test`, which installs the Node packages they use")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return dst
}

// Modules is the installed node_modules directory; without it the test fails.
func Modules(t testing.TB) string {
	t.Helper()
	modules := os.Getenv("IMGORIGIN_TEST_NODE_MODULES")
	if modules == "" {
		t.Fatal("IMGORIGIN_TEST_NODE_MODULES is not set: run the tests with `make test`, which installs the Node packages they use")
	}
	return modules
}
