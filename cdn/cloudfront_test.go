package cdn

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testwait"
)

// No CloudFront can be reached here: a local endpoint records what the AWS
// SDK sends and answers as CloudFront does. Deletes gathered in a round
// become one CreateInvalidation of /{key}* paths, at most 15 wildcards at
// once; a refused round is sent again.
func TestCloudFrontInvalidationsAreBatched(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	var mu sync.Mutex
	var bodies []string
	refuse := true
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Method != "POST" || r.URL.Path != "/2020-05-31/distribution/EDIST/invalidation" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		}
		if refuse { // the first round: too many in progress
			refuse = false
			w.WriteHeader(400)
			io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>TooManyInvalidationsInProgress</Code><Message>busy</Message></Error></ErrorResponse>`)
			return
		}
		bodies = append(bodies, string(b))
		w.Header().Set("Location", "https://cloudfront.amazonaws.com/2020-05-31/distribution/EDIST/invalidation/I1")
		w.WriteHeader(201)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I1</Id><Status>InProgress</Status><CreateTime>2026-12-04T00:00:00Z</CreateTime><InvalidationBatch><Paths><Quantity>0</Quantity></Paths><CallerReference>r</CallerReference></InvalidationBatch></Invalidation>`)
	}))
	defer api.Close()
	cf, err := NewCloudFront(context.Background(), CloudFrontConfig{Distribution: "EDIST", Endpoint: api.URL, Every: 20 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := range 20 {
		keys = append(keys, "tokyo-"+strings.Repeat("0", 30)+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	cf.Invalidate(keys[:1])
	cf.Invalidate(keys[1:])
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- cf.Run(ctx) }()
	testwait.For(t, "two invalidations to reach the endpoint", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(bodies) == 2
	})
	stop()
	<-done
	if n := strings.Count(bodies[0], "<Path>"); n != 15 || !strings.Contains(bodies[0], "<Path>/"+keys[0]+"*</Path>") || !strings.Contains(bodies[0], "<Quantity>15</Quantity>") {
		t.Errorf("first invalidation: %d paths: %s", n, bodies[0])
	}
	if n := strings.Count(bodies[1], "<Path>"); n != 5 || !strings.Contains(bodies[1], "<Path>/"+keys[19]+"*</Path>") {
		t.Errorf("second invalidation: %d paths: %s", n, bodies[1])
	}
}
