// Package secrets loads development secrets from files under the data
// directory, creating them on first use.
package secrets

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreate returns the hex secret in path, creating a random 32-byte one
// (mode 0600) if the file does not exist; created says which happened.
func LoadOrCreate(path string) (secret []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		s, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(s) < 16 {
			return nil, false, fmt.Errorf("secret %s: want at least 16 hex-encoded bytes", path)
		}
		return s, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, false, err
	}
	err = WriteNew(path, []byte(hex.EncodeToString(s)+"\n"))
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreate(path)
	}
	return s, err == nil, err
}

// WriteNew writes b to a new file at path (mode 0600, directories created),
// and fails with fs.ErrExist rather than replace one: two processes starting
// at once must not each write a different secret.
func WriteNew(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return errors.Join(err, f.Sync(), f.Close())
}
