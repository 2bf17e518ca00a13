// Package cdn asks the CDN in front of the resizers to forget deleted
// photos: a CloudFront invalidation of /{key}* for each, batched. It knows
// nothing of images or stores.
package cdn

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/imgorigin/imgorigin/internal/awslog"
)

// CloudFrontConfig says which distribution to invalidate.
type CloudFrontConfig struct {
	// Distribution is the distribution's id (E2QWRUHEXAMPLE).
	Distribution string
	// Endpoint overrides CloudFront's API endpoint (tests); empty: AWS's.
	Endpoint string
	// Every is how long deletes gather before one invalidation carries
	// them. Default 1 s.
	Every time.Duration
}

// maxWildcards is CloudFront's bound on wildcard paths in invalidations in
// progress at once; more answer TooManyInvalidationsInProgress, and what
// is pending waits for a later round.
const maxWildcards = 15

// CloudFront invalidates /{key}* of deleted keys: every variant of a photo
// the CDN may hold, whatever its query. Invalidate only queues; Run sends.
type CloudFront struct {
	cfg     CloudFrontConfig
	client  *cloudfront.Client
	log     *slog.Logger
	mu      sync.Mutex
	pending []string
}

// NewCloudFront makes the client (credentials from the standard AWS chain).
func NewCloudFront(ctx context.Context, cfg CloudFrontConfig, log *slog.Logger) (*CloudFront, error) {
	if cfg.Distribution == "" {
		return nil, errors.New("cdn: no CloudFront distribution id")
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Second
	}
	awsCfg, err := awslog.Load(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		return nil, err
	}
	client := cloudfront.NewFromConfig(awsCfg, func(o *cloudfront.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &CloudFront{cfg: cfg, client: client, log: log}, nil
}

// Invalidate queues the paths of keys for the next round.
func (c *CloudFront) Invalidate(keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.pending = append(c.pending, "/"+k+"*")
	}
}

// Run sends what is queued every cfg.Every, until ctx is done (then once
// more, so that a drained server does not drop what it was told last).
func (c *CloudFront) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flush, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c.send(flush)
			cancel()
			return nil
		case <-t.C:
			c.send(ctx)
		}
	}
}

// send makes one invalidation of up to maxWildcards queued paths; on a
// failure they stay queued for the next round.
func (c *CloudFront) send(ctx context.Context) {
	c.mu.Lock()
	batch := c.pending[:min(len(c.pending), maxWildcards)]
	c.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	out, err := c.client.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(c.cfg.Distribution),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(strconv.FormatInt(time.Now().UnixNano(), 36)),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(batch))), Items: batch},
		},
	})
	if err != nil {
		c.log.Warn("CloudFront invalidation failed; retrying next round", "paths", len(batch), "err", err)
		return
	}
	c.mu.Lock()
	c.pending = c.pending[len(batch):]
	left := len(c.pending)
	c.mu.Unlock()
	id := ""
	if out.Invalidation != nil {
		id = aws.ToString(out.Invalidation.Id)
	}
	c.log.Info("CloudFront invalidation", "id", id, "paths", len(batch), "queued", left, "first", batch[0])
}
