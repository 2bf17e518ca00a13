// Package awslog sends the AWS SDK's own log lines (retries, checksum and
// credential warnings) through slog's default logger, so they land in the
// process's structured log instead of as plain text on stderr.
package awslog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// Option is the LoadDefaultConfig option every AWS client here is built with.
func Option() config.LoadOptionsFunc { return config.WithLogger(Logger{}) }

// Logger is a logging.Logger writing to slog.Default() at the matching level.
type Logger struct{}

func (Logger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelInfo
	switch c {
	case logging.Warn:
		level = slog.LevelWarn
	case logging.Debug:
		level = slog.LevelDebug
	}
	slog.Default().Log(context.Background(), level, fmt.Sprintf(format, v...), "source", "aws-sdk")
}
