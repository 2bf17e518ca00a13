// Package tracing sets up OpenTelemetry traces from the standard OTEL_*
// environment variables, exported over OTLP/HTTP. It is off unless an OTLP
// endpoint is given: then incoming requests are traced (W3C traceparent
// taken in), and the spans of the work they cause reach the AWS SDK's HTTP
// calls, which carry the trace on to S3 and SQS.
package tracing

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

var enabled atomic.Bool

// tracer makes every span here. Taken once: the global provider hands it
// on to the SDK's when Setup installs one.
var tracer = otel.Tracer("imgorigin")

// Enabled reports whether Setup turned tracing on.
func Enabled() bool { return enabled.Load() }

// wanted reports whether the environment asks for traces: an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and
// neither OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none.
func wanted() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") || os.Getenv("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup turns tracing on when the environment asks for it, naming the
// process service (OTEL_SERVICE_NAME wins). Sampling follows
// OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (default: every trace
// whose parent is sampled, and every root). stop flushes the spans left.
func Setup(ctx context.Context, service, version string) (stop func(context.Context) error, err error) {
	if !wanted() {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(service), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	enabled.Store(true)
	return tp.Shutdown, nil
}

// Handler traces h's requests when tracing is on: a server span each,
// continuing the caller's trace (W3C traceparent).
func Handler(h http.Handler) http.Handler {
	if !Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, "imgorigin", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		return r.Method + " " + route(r.URL.Path)
	}))
}

// route names a path without its key: span names stay few.
func route(path string) string {
	switch {
	case strings.HasPrefix(path, "/v1/"), strings.HasPrefix(path, "/.well-known/"), path == "/healthz", path == "/readyz", path == "/metrics":
		return path
	}
	return "/{key}"
}

// AWS makes the clients built from cfg trace their calls when tracing is
// on: a client span each, named for the service and operation ("S3
// GetObject"), which carries the trace on in a traceparent header.
func AWS(cfg *aws.Config) {
	if !Enabled() {
		return
	}
	next := cfg.HTTPClient
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	cfg.HTTPClient = tracedClient{otelhttp.NewTransport(roundTrip(next.Do), otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		return awsmiddleware.GetServiceID(r.Context()) + " " + awsmiddleware.GetOperationName(r.Context())
	}))}
}

// tracedClient is an aws.HTTPClient sending through a traced transport.
type tracedClient struct{ rt http.RoundTripper }

func (c tracedClient) Do(r *http.Request) (*http.Response, error) { return c.rt.RoundTrip(r) }

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Start starts a span named name under ctx's, to be ended with End. With
// tracing off it costs next to nothing.
func Start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// End ends span with the error its work ended with.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Step runs f in a span named name under ctx's.
func Step(ctx context.Context, name string, f func(context.Context) error) error {
	ctx, span := Start(ctx, name)
	err := f(ctx)
	End(span, err)
	return err
}

// Recording reports whether ctx's span is recorded: work done only for a
// trace's sake is skipped otherwise.
func Recording(ctx context.Context) bool { return trace.SpanFromContext(ctx).IsRecording() }
