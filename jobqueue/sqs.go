package jobqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/imgorigin/imgorigin/internal/awslog"
)

// SQSQueue is the queue for runs on many machines. Jobs delivered more than
// MaxAttempts times go to the queue NAME-dead; while more than InFlightCap
// messages are in flight (SQS refuses past 120,000), workers take no more.
type SQSQueue[J Job] struct {
	client      *sqs.Client
	url, dead   string
	maxAttempts int
	inFlightCap int
}

// SQSConfig says where the queue is.
type SQSConfig struct {
	Name        string
	Endpoint    string // for SQS-compatible servers
	Region      string
	MaxAttempts int // default 5
	InFlightCap int // default 100,000
}

// ParseSQSURL reads sqs://NAME?endpoint=URL&region=R.
func ParseSQSURL(raw string) (SQSConfig, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "sqs" || u.Host == "" {
		return SQSConfig{}, fmt.Errorf("queue URL %q: want sqs://NAME[?endpoint=URL&region=R]", raw)
	}
	return SQSConfig{Name: u.Host, Endpoint: u.Query().Get("endpoint"), Region: u.Query().Get("region")}, nil
}

// OpenSQS connects, creating the queue and its dead-letter queue if needed.
func OpenSQS[J Job](ctx context.Context, cfg SQSConfig) (*SQSQueue[J], error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.InFlightCap <= 0 {
		cfg.InFlightCap = 100_000
	}
	awsCfg, err := awslog.Load(ctx, config.WithRegion(cfg.Region))
	if err != nil {
		return nil, err
	}
	client := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	q := &SQSQueue[J]{client: client, maxAttempts: cfg.MaxAttempts, inFlightCap: cfg.InFlightCap}
	for name, dst := range map[string]*string{cfg.Name: &q.url, cfg.Name + "-dead": &q.dead} {
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("sqs: create queue %s: %w", name, err)
		}
		*dst = aws.ToString(out.QueueUrl)
	}
	return q, nil
}

// Send enqueues jobs ten at a time (SQS's batch limit).
func (q *SQSQueue[J]) Send(ctx context.Context, jobs []J) error {
	for start := 0; start < len(jobs); start += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for i, j := range jobs[start:min(start+10, len(jobs))] {
			b, _ := json.Marshal(j)
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(b))})
		}
		out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: entries})
		if err != nil {
			return fmt.Errorf("sqs: send: %w", err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("sqs: %d of %d jobs not sent: %s", len(out.Failed), len(entries), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// Receive takes up to max jobs (ten at most a call), moving any delivered
// too often to the dead-letter queue instead.
func (q *SQSQueue[J]) Receive(ctx context.Context, max int, visibility time.Duration) ([]Delivery[J], error) {
	if _, inFlight, err := q.counts(ctx); err != nil {
		return nil, err
	} else if inFlight >= q.inFlightCap {
		return nil, nil
	}
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    &q.url,
		MaxNumberOfMessages:         int32(min(max, 10)),
		VisibilityTimeout:           seconds(visibility),
		WaitTimeSeconds:             1,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil {
		return nil, fmt.Errorf("sqs: receive: %w", err)
	}
	var ds []Delivery[J]
	for _, m := range out.Messages {
		d := Delivery[J]{Ticket: Ticket{ID: aws.ToString(m.MessageId), Receipt: aws.ToString(m.ReceiptHandle)}}
		d.Attempts, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &d.Job); err != nil || d.Attempts > q.maxAttempts {
			if _, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.dead, MessageBody: m.Body}); err != nil {
				return nil, fmt.Errorf("sqs: dead-letter: %w", err)
			}
			if err := q.Ack(ctx, d.Ticket); err != nil {
				return nil, err
			}
			continue
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// Extend keeps a job hidden while its worker is on it.
func (q *SQSQueue[J]) Extend(ctx context.Context, t Ticket, visibility time.Duration) error {
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &q.url, ReceiptHandle: &t.Receipt, VisibilityTimeout: seconds(visibility)})
	return err
}

// Ack deletes a finished job.
func (q *SQSQueue[J]) Ack(ctx context.Context, t Ticket) error {
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.url, ReceiptHandle: &t.Receipt})
	return err
}

// Counts uses SQS's approximate counts of both queues.
func (q *SQSQueue[J]) Counts(ctx context.Context) (pending, dead int, err error) {
	visible, inFlight, err := q.counts(ctx)
	if err != nil {
		return 0, 0, err
	}
	deadVisible, deadInFlight, err := q.countsOf(ctx, q.dead)
	return visible + inFlight, deadVisible + deadInFlight, err
}

func (q *SQSQueue[J]) counts(ctx context.Context) (visible, inFlight int, err error) {
	return q.countsOf(ctx, q.url)
}

func (q *SQSQueue[J]) countsOf(ctx context.Context, queueURL string) (visible, inFlight int, err error) {
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &queueURL, AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return 0, 0, fmt.Errorf("sqs: attributes: %w", err)
	}
	n := func(name types.QueueAttributeName) int { v, _ := strconv.Atoi(out.Attributes[string(name)]); return v }
	return n(types.QueueAttributeNameApproximateNumberOfMessages) + n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed),
		n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible), nil
}

// seconds rounds up to SQS's whole seconds, at least one.
func seconds(d time.Duration) int32 { return int32(max(1, math.Ceil(d.Seconds()))) }
