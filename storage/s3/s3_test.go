package s3_test

import (
	"testing"

	"github.com/imgorigin/imgorigin/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, storagetest.NewS3(t, ""))
}

// A prefix must be invisible to callers: keys come back without it.
func TestConformanceWithPrefix(t *testing.T) {
	storagetest.Run(t, storagetest.NewS3(t, "tenant/originals/"))
}
