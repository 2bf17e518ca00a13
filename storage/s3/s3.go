// Package s3 keeps objects in an S3 bucket (or any S3-compatible server) through
// aws-sdk-go-v2. It adds what a fleet needs on top of the SDK: an optional key
// prefix, per-call timeouts, the one retry layer for 503 SlowDown and other
// transient errors, and mapping of NoSuchKey to storage.ErrNotFound.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/imgorigin/imgorigin/internal/awslog"
	"github.com/imgorigin/imgorigin/storage"
)

// Config says which bucket to use and how to reach it. Credentials come from the
// SDK's standard chain (environment, shared files, instance or pod roles).
type Config struct {
	Bucket string
	Prefix string // prepended to every key, e.g. "originals/"
	// Endpoint overrides the AWS endpoint, for S3-compatible servers.
	Endpoint string
	Region   string // default us-east-1
	// PathStyle addresses buckets as ENDPOINT/BUCKET instead of BUCKET.ENDPOINT;
	// most S3-compatible servers need it.
	PathStyle bool
	// Timeout bounds each call (attempts and retries together). Default 30 s.
	Timeout time.Duration
	// MaxAttempts of each call: the SDK's standard retryer backs off with
	// jitter (S3's advice for 503 SlowDown) between them. It is the only
	// retry layer; callers above it retry whole jobs, not calls. Default 5.
	MaxAttempts int
}

// Store is a storage.Store on one bucket and prefix.
type Store struct {
	client *s3.Client
	cfg    Config
}

// deleteBatch is S3's limit on keys per DeleteObjects call.
const deleteBatch = 1000

// New builds the client. It does not contact the server.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3 store: bucket is required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	awsCfg, err := awslog.Load(ctx,
		config.WithRegion(cfg.Region),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = cfg.MaxAttempts
				so.Retryables = append([]retry.IsErrorRetryable{refusedIsFinal}, so.Retryables...)
				// No retry quota: in a SlowDown storm the quota (and the
				// adaptive mode's send-rate cut) turned throttles into
				// failures and 30 s waits for a token; the back-off alone
				// spaces the retries, and migrate's --store-rate paces a fleet.
				so.RateLimiter = ratelimit.None
			})
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	return &Store{client: client, cfg: cfg}, nil
}

// Client exposes the SDK client, for tests and tools that create buckets.
func (s *Store) Client() *s3.Client { return s.client }

func (s *Store) objectKey(key string) string { return s.cfg.Prefix + key }

func (s *Store) Get(ctx context.Context, key string) (*storage.Object, error) {
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	// The timeout must outlive Get to cover reading the body, so it is released
	// when the body is closed.
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(s.objectKey(key))})
	if err != nil {
		cancel()
		return nil, mapErr(err, key)
	}
	info := storage.Info{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         strings.Trim(aws.ToString(out.ETag), `"`),
		ContentType:  aws.ToString(out.ContentType),
		LastModified: aws.ToTime(out.LastModified).UTC(),
		Own:          out.Metadata[ownMeta] == ownValue,
		Meta:         ownedMeta(out.Metadata),
	}
	return &storage.Object{Info: info, Body: &cancelOnClose{ReadCloser: out.Body, cancel: cancel}}, nil
}

func (s *Store) Head(ctx context.Context, key string) (storage.Info, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.Info{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(s.objectKey(key))})
	if err != nil {
		return storage.Info{}, mapErr(err, key)
	}
	return storage.Info{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         strings.Trim(aws.ToString(out.ETag), `"`),
		ContentType:  aws.ToString(out.ContentType),
		LastModified: aws.ToTime(out.LastModified).UTC(),
		Own:          out.Metadata[ownMeta] == ownValue,
		Meta:         ownedMeta(out.Metadata),
	}, nil
}

// ownedMeta is the metadata Put kept with an object it wrote, without the
// store's own mark; nil for an object another program placed.
func ownedMeta(m map[string]string) storage.Meta {
	if m[ownMeta] != ownValue || len(m) == 1 {
		return nil
	}
	out := storage.Meta{}
	for k, v := range m {
		if k != ownMeta {
			out[strings.ToLower(k)] = v
		}
	}
	return out
}

// ownMeta is the user metadata (x-amz-meta-imgorigin) that marks an object
// written by Put, as against one another program placed in the bucket.
const ownMeta, ownValue = "imgorigin", "put"

// Ping asks for a key that never exists: any answer of S3's short of a 5xx
// (404, or 403 where the role may not list the bucket) means it answers.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(s.objectKey(storage.PingKey))},
		func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	var re *smithyhttp.ResponseError
	if err == nil || ctx.Err() == nil && errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500 {
		return nil
	}
	return fmt.Errorf("s3 store: %w", err)
}

// Put is a single PutObject: S3 makes an object visible only once it is whole.
func (s *Store) Put(ctx context.Context, key string, data []byte, contentType string, meta storage.Meta) (storage.Info, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.Info{}, err
	}
	if err := meta.Validate(); err != nil {
		return storage.Info{}, err
	}
	if _, ok := meta[ownMeta]; ok {
		return storage.Info{}, fmt.Errorf("s3 store: metadata name %q is the store's own", ownMeta)
	}
	userMeta := map[string]string{ownMeta: ownValue}
	maps.Copy(userMeta, meta)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.cfg.Bucket,
		Key:           aws.String(s.objectKey(key)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(contentType),
		Metadata:      userMeta,
	})
	if err != nil {
		return storage.Info{}, mapErr(err, key)
	}
	return storage.Info{
		Key:          key,
		Size:         int64(len(data)),
		ETag:         strings.Trim(aws.ToString(out.ETag), `"`),
		ContentType:  contentType,
		LastModified: time.Now().UTC().Truncate(time.Second),
		Own:          true,
		Meta:         meta,
	}, nil
}

func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(s.objectKey(key))})
	if err != nil {
		if mapped := mapErr(err, key); errors.Is(mapped, storage.ErrNotFound) {
			return nil
		}
		return mapErr(err, key)
	}
	return nil
}

// DeleteMany sends DeleteObjects in batches of 1000 (S3's limit) and reports
// every key the server did not delete.
func (s *Store) DeleteMany(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if err := storage.ValidateKey(k); err != nil {
			return err
		}
	}
	var errs []error
	for start := 0; start < len(keys); start += deleteBatch {
		batch := keys[start:min(start+deleteBatch, len(keys))]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(s.objectKey(k))}
		}
		callCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		out, err := s.client.DeleteObjects(callCtx, &s3.DeleteObjectsInput{
			Bucket: &s.cfg.Bucket,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		cancel()
		if err != nil {
			return fmt.Errorf("s3 store: delete batch: %w", err)
		}
		for _, e := range out.Errors {
			errs = append(errs, fmt.Errorf("s3 store: delete %s: %s %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
	}
	return errors.Join(errs...)
}

func (s *Store) List(ctx context.Context, prefix, after string, limit int) (storage.Page, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	in := &s3.ListObjectsV2Input{
		Bucket:  &s.cfg.Bucket,
		Prefix:  aws.String(s.objectKey(prefix)),
		MaxKeys: aws.Int32(int32(limit)),
	}
	if after != "" {
		in.StartAfter = aws.String(s.objectKey(after))
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return storage.Page{}, mapErr(err, prefix)
	}
	var page storage.Page
	for _, o := range out.Contents {
		page.Items = append(page.Items, storage.Info{
			Key:          strings.TrimPrefix(aws.ToString(o.Key), s.cfg.Prefix),
			Size:         aws.ToInt64(o.Size),
			ETag:         strings.Trim(aws.ToString(o.ETag), `"`),
			LastModified: aws.ToTime(o.LastModified).UTC(),
		})
	}
	if aws.ToBool(out.IsTruncated) && len(page.Items) > 0 {
		page.Next = page.Items[len(page.Items)-1].Key
	}
	return page, nil
}

// mapErr turns the SDK's "no such object" answers (NoSuchKey on GET, a bare 404
// NotFound on HEAD) into storage.ErrNotFound, keeping the cause.
func mapErr(err error, key string) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &nsk), errors.As(err, &nf):
		return fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NoSuchKey" || apiErr.ErrorCode() == "NotFound"):
		return fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	return fmt.Errorf("s3 store: %s: %w", key, err)
}

// refusedIsFinal stops retries of a refused connection: nothing listens
// there (a server or a region down), and retrying with back-off only makes
// every caller wait out its whole timeout instead of hearing so at once.
var refusedIsFinal = retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
})

// cancelOnClose releases a Get's timeout once its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
