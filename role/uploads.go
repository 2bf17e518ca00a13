package role

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgorigin/imgorigin/deferred"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/secrets"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/storeurl"
	"github.com/imgorigin/imgorigin/token"
	"github.com/imgorigin/imgorigin/uploader"
)

// Uploads configures the uploader and says where its keys are.
type Uploads struct {
	Config   uploader.Config
	Original imaging.OriginalConfig
	// SigningKeyFile signs tokens (PEM, from `imgorigin keys generate`);
	// OldKeyFiles are rotated-out keys whose tokens still verify. In
	// development a missing signing key is created under DATA/keys.
	SigningKeyFile string
	OldKeyFiles    []string
	TokenAlg       string
	// TokenIssuer is every token's iss (default http://ADDR).
	TokenIssuer string
	// ServiceKeys authenticate backends at /v1/upload-tokens; in
	// development one is created under DATA/keys.
	ServiceKeys []string
	// ArchiveStore, when set, also keeps every untouched upload.
	ArchiveStore string
	// DeferWhenBusy stores uploads raw in PendingStore (default
	// DATA/pending) when the conversion queue is full, for a worker to
	// convert later (202) instead of answering 503.
	DeferWhenBusy bool
	PendingStore  string
	// CloudFrontDistribution, when set, is invalidated (/{key}*) for every
	// deleted key, in batches.
	CloudFrontDistribution string
}

// DefaultUploads is an uploader at its defaults.
func DefaultUploads() Uploads {
	return Uploads{Config: uploader.DefaultConfig(), Original: imaging.DefaultOriginal(), TokenAlg: token.ES256}
}

// PendingURL is where deferred uploads wait raw; "" unless DeferWhenBusy.
func (u *Uploads) PendingURL(data string) string {
	if !u.DeferWhenBusy {
		return ""
	}
	return cmp.Or(u.PendingStore, filepath.Join(data, "pending"))
}

// keys loads the signing keys and service keys. In development (dev)
// missing ones are created under DATA/keys and the log says where;
// otherwise their absence is an error.
func (u *Uploads) keys(data, addr string, dev bool, log *slog.Logger) (*token.KeySet, [][]byte, error) {
	signing := u.SigningKeyFile
	var older []token.Key
	if signing == "" && dev {
		signing = filepath.Join(data, "keys", "signing-key.pem")
		if created, err := token.CreateKeyFile(signing, u.TokenAlg); err != nil {
			return nil, nil, err
		} else if created {
			log.Warn("created a development token signing key", "path", signing, "alg", u.TokenAlg)
		}
		// Earlier versions' development key (a hex Ed25519 seed) keeps
		// verifying what it signed.
		if k, err := token.LoadKeyFile(filepath.Join(data, "keys", "signing-key")); err == nil {
			older = append(older, k)
		}
	}
	if signing == "" {
		return nil, nil, fmt.Errorf("--signing-key-file is required: the uploader signs tokens with it (make one with `imgorigin keys generate`)")
	}
	cur, err := token.LoadKeyFile(signing)
	if err != nil {
		return nil, nil, err
	}
	if cur.Alg != u.TokenAlg {
		return nil, nil, fmt.Errorf("the signing key %s is %s, but --token-alg is %s", signing, cur.Alg, u.TokenAlg)
	}
	for _, p := range u.OldKeyFiles {
		k, err := token.LoadKeyFile(p)
		if err != nil {
			return nil, nil, err
		}
		older = append(older, k)
	}
	ks, err := token.NewKeySet(cur, older...)
	if err != nil {
		return nil, nil, err
	}
	ks.Issuer = cmp.Or(u.TokenIssuer, "http://"+addr)
	var service [][]byte
	for _, k := range u.ServiceKeys {
		service = append(service, []byte(k))
	}
	if len(service) == 0 && dev {
		path := filepath.Join(data, "keys", "service-key")
		s, created, err := secrets.LoadOrCreate(path)
		if err != nil {
			return nil, nil, err
		}
		if created {
			log.Warn("created a development service key for /v1/upload-tokens", "path", path)
		}
		service = append(service, []byte(hex.EncodeToString(s)))
	}
	if len(service) == 0 {
		return nil, nil, fmt.Errorf("--service-keys is required: backends authenticate with them")
	}
	return ks, service, nil
}

// newUploader builds the uploader on st. With DeferWhenBusy it also
// returns the deferred-conversion worker, to run for the server's lifetime.
func (u *Uploads) newUploader(ctx context.Context, stores *Stores, st storage.Store, addr string, dev bool, log *slog.Logger, reg prometheus.Registerer) (*uploader.Handler, *deferred.Worker, error) {
	ks, service, err := u.keys(stores.Data, addr, dev, log)
	if err != nil {
		return nil, nil, err
	}
	in, err := stores.Ingester(st, u.Original, log)
	if err != nil {
		return nil, nil, err
	}
	var archive uploader.Archive
	if u.ArchiveStore != "" {
		if archive, err = storeurl.Open(ctx, u.ArchiveStore, stores.S3); err != nil {
			return nil, nil, fmt.Errorf("--archive-store: %w", err)
		}
	}
	h, err := uploader.New(in, ks, service, archive, u.Config, log, reg)
	if err != nil || !u.DeferWhenBusy {
		return h, nil, err
	}
	pending, err := storeurl.Open(ctx, u.PendingURL(stores.Data), stores.S3)
	if err != nil {
		return nil, nil, fmt.Errorf("--pending-store: %w", err)
	}
	w, err := deferred.Open(filepath.Join(stores.Data, "deferred"), pending, in, log)
	if err != nil {
		return nil, nil, err
	}
	h.SetDeferrer(w.Deferrer())
	return h, w, nil
}

// cleanDebris removes, in a disk store the uploader writes to, what Puts cut
// short by a crash left behind; a Put in flight elsewhere is younger than
// debrisAge. It runs once at start, before any upload.
func cleanDebris(st storage.Store, log *slog.Logger) {
	c, ok := st.(interface {
		Clean(context.Context, time.Duration) (int, error)
	})
	if !ok {
		return // S3: a PUT is whole or absent
	}
	n, err := c.Clean(context.Background(), debrisAge)
	if err != nil {
		log.Warn("cleaning the store's temporary files", "err", err)
	} else if n > 0 {
		log.Info("removed what interrupted writes left in the store", "files", n)
	}
}

// debrisAge: no Put takes minutes (the upload store timeout is 10 s).
const debrisAge = 5 * time.Minute
