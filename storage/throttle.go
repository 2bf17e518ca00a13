package storage

import (
	"context"

	"golang.org/x/time/rate"
)

// throttledStore is a store whose every request waits for the global request rate.
type throttledStore struct {
	Store
	lim *rate.Limiter
}

// Throttle bounds requests to st at perSecond (0: unbounded), so that a fleet
// of migration workers stays under what a bucket serves before it answers
// SlowDown.
func Throttle(st Store, perSecond float64) Store {
	if perSecond <= 0 {
		return st
	}
	return &throttledStore{Store: st, lim: rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond/10)))}
}

func (t *throttledStore) Get(ctx context.Context, key string) (*Object, error) {
	if err := t.lim.Wait(ctx); err != nil {
		return nil, err
	}
	return t.Store.Get(ctx, key)
}

func (t *throttledStore) Head(ctx context.Context, key string) (Info, error) {
	if err := t.lim.Wait(ctx); err != nil {
		return Info{}, err
	}
	return t.Store.Head(ctx, key)
}

func (t *throttledStore) Put(ctx context.Context, key string, data []byte, ct string, meta Meta) (Info, error) {
	if err := t.lim.Wait(ctx); err != nil {
		return Info{}, err
	}
	return t.Store.Put(ctx, key, data, ct, meta)
}

func (t *throttledStore) DeleteMany(ctx context.Context, keys []string) error {
	if err := t.lim.Wait(ctx); err != nil {
		return err
	}
	return t.Store.DeleteMany(ctx, keys)
}

func (t *throttledStore) List(ctx context.Context, prefix, after string, limit int) (Page, error) {
	if err := t.lim.Wait(ctx); err != nil {
		return Page{}, err
	}
	return t.Store.List(ctx, prefix, after, limit)
}
