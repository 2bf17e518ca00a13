package awslog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

func TestSDKLinesAreStructured(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	defer slog.SetDefault(prev)

	cfg, err := Load(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger.Logf(logging.Warn, "Response has no supported checksum. Not validating response payload: %d", 7)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("SDK line is not JSON: %q", buf.String())
	}
	if rec["level"] != "WARN" || rec["source"] != "aws-sdk" || rec["msg"] != "Response has no supported checksum. Not validating response payload: 7" {
		t.Fatalf("record %v", rec)
	}
}
