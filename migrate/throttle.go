package migrate

import (
	"context"

	"golang.org/x/time/rate"

	"github.com/imgorigin/imgorigin/storage"
)

// throttledStore is a store whose every request waits for the global request rate.
type throttledStore struct {
	storage.Store
	lim *rate.Limiter
}

// Throttle bounds requests to st at perSecond (0: unbounded), so a fleet of
// workers stays under what the bucket serves before it answers SlowDown.
func Throttle(st storage.Store, perSecond float64) storage.Store {
	if perSecond <= 0 {
		return st
	}
	return &throttledStore{Store: st, lim: rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond/10)))}
}

func (t *throttledStore) Get(ctx context.Context, key string) (*storage.Object, error) {
	if err := t.lim.Wait(ctx); err != nil {
		return nil, err
	}
	return t.Store.Get(ctx, key)
}

func (t *throttledStore) Head(ctx context.Context, key string) (storage.Info, error) {
	if err := t.lim.Wait(ctx); err != nil {
		return storage.Info{}, err
	}
	return t.Store.Head(ctx, key)
}

func (t *throttledStore) Put(ctx context.Context, key string, data []byte, ct string, meta storage.Meta) (storage.Info, error) {
	if err := t.lim.Wait(ctx); err != nil {
		return storage.Info{}, err
	}
	return t.Store.Put(ctx, key, data, ct, meta)
}

func (t *throttledStore) DeleteMany(ctx context.Context, keys []string) error {
	if err := t.lim.Wait(ctx); err != nil {
		return err
	}
	return t.Store.DeleteMany(ctx, keys)
}

func (t *throttledStore) List(ctx context.Context, prefix, after string, limit int) (storage.Page, error) {
	if err := t.lim.Wait(ctx); err != nil {
		return storage.Page{}, err
	}
	return t.Store.List(ctx, prefix, after, limit)
}
