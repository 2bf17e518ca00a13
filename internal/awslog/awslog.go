// Package awslog sends the AWS SDK's own log lines (retries, checksum and
// credential warnings) through slog's default logger, so they land in the
// process's structured log instead of as plain text on stderr; Load also
// traces the SDK's calls when tracing is on.
package awslog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/imgorigin/imgorigin/internal/tracing"
)

// Load is config.LoadDefaultConfig as every AWS client here is built: its
// log through Logger, its calls traced when tracing is on (internal/tracing).
func Load(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, append(opts, config.WithLogger(Logger{}))...)
	tracing.AWS(&cfg)
	return cfg, err
}

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
