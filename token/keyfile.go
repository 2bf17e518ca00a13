package token

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/imgorigin/imgorigin/internal/secrets"
)

// LoadKeyFile reads a signing key: a PKCS #8 PEM private key, or the hex
// Ed25519 seed that earlier versions wrote.
func LoadKeyFile(path string) (Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("signing key: %w", err)
	}
	if bytes.Contains(b, []byte("-----BEGIN")) {
		k, err := ParsePrivateKeyPEM(b)
		if err != nil {
			return Key{}, fmt.Errorf("signing key %s: %w", path, err)
		}
		return k, nil
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return Key{}, fmt.Errorf("signing key %s: neither PEM nor a hex seed", path)
	}
	return NewKey(seed)
}

// CreateKeyFile writes a new alg key as PEM at path (mode 0600) unless a
// file is there already; it reports whether it wrote one.
func CreateKeyFile(path, alg string) (bool, error) {
	_, b, err := GenerateKeyPEM(alg)
	if err != nil {
		return false, err
	}
	err = secrets.WriteNew(path, b)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	return err == nil, err
}

// GenerateKeyPEM generates an alg signing key and its PEM.
func GenerateKeyPEM(alg string) (Key, []byte, error) {
	k, err := GenerateKey(alg)
	if err != nil {
		return Key{}, nil, err
	}
	b, err := k.PrivateKeyPEM()
	return k, b, err
}
