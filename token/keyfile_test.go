package token

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// A key file is made once and read back as the same key; an existing file
// is never overwritten; the hex seeds of earlier versions still load.
func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "signing-key.pem")
	for _, alg := range []string{ES256, EdDSA} {
		os.Remove(path)
		if created, err := CreateKeyFile(path, alg); err != nil || !created {
			t.Fatalf("CreateKeyFile(%s) = %v, %v", alg, created, err)
		}
		k, err := LoadKeyFile(path)
		if err != nil || k.Alg != alg {
			t.Fatalf("LoadKeyFile after CreateKeyFile(%s) = %+v, %v", alg, k, err)
		}
		if created, err := CreateKeyFile(path, alg); err != nil || created {
			t.Fatalf("CreateKeyFile over an existing file = %v, %v; want it kept", created, err)
		}
		if again, _ := LoadKeyFile(path); again.ID != k.ID {
			t.Fatalf("the key file changed: kid %s, then %s", k.ID, again.ID)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
		}
	}
	seed := make([]byte, 32)
	seedPath := filepath.Join(dir, "signing-key")
	if err := os.WriteFile(seedPath, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := LoadKeyFile(seedPath); err != nil || k.Alg != EdDSA {
		t.Fatalf("a hex seed file: %+v, %v", k, err)
	}
	if err := os.WriteFile(seedPath, []byte("neither"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(seedPath); err == nil {
		t.Fatal("a file that is neither PEM nor hex loaded")
	}
}
