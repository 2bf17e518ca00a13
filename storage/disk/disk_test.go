package disk_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/imgorigin/imgorigin/storage/disk"
	"github.com/imgorigin/imgorigin/storage/storagetest"
)

func TestConformance(t *testing.T) {
	st, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	storagetest.Run(t, st)
}

func TestPutLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	st, err := disk.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(t.Context(), "k", []byte("data"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	if len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}
