package storage

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	valid := []string{"a", "photos/2024/abc.webp", "x-y_z.1", "ünïcode/ключ", strings.Repeat("k/", MaxKeyLen/2-1) + "k", strings.Repeat("s", MaxSegmentLen)}
	for _, k := range valid {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	invalid := map[string]string{
		"empty":          "",
		"too long":       strings.Repeat("k", MaxKeyLen+1),
		"leading slash":  "/etc/passwd",
		"trailing slash": "dir/",
		"dot dot":        "a/../b",
		"only dot dot":   "..",
		"dot segment":    "a/./b",
		"double slash":   "a//b",
		"NUL":            "a\x00b",
		"newline":        "a\nb",
		"DEL":            "a\x7fb",
		"backslash":      `a\..\b`,
		"invalid utf8":   "a\xffb",
		"C1 control":     "a\u0085b",
		"long segment":   "a/" + strings.Repeat("s", MaxSegmentLen+1),
	}
	for name, k := range invalid {
		err := ValidateKey(k)
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: ValidateKey(%q) = %v, want ErrInvalidKey", name, k, err)
		}
	}
}
