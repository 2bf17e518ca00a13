package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/secrets"
	"github.com/imgorigin/imgorigin/migrate"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/storeurl"
	"github.com/imgorigin/imgorigin/token"
	"github.com/imgorigin/imgorigin/uploader"
)

// uploaderFlags fill an uploader.Config and say where its keys are.
type uploaderFlags struct {
	cfg             uploader.Config
	original        imaging.OriginalConfig
	signingKeyFile  string
	oldKeyFiles     string
	serviceKeys     string
	archiveStoreURL string
	pendingStoreURL string
	deferWhenBusy   bool
}

func (f *uploaderFlags) register(fs *flag.FlagSet) {
	f.cfg = uploader.DefaultConfig()
	f.original = imaging.DefaultOriginal()
	c := &f.cfg
	fs.StringVar(&f.signingKeyFile, "signing-key-file", "", "file holding the hex Ed25519 seed that signs tokens (required by `uploader`; `serve` creates DATA/keys/signing-key)")
	fs.StringVar(&f.oldKeyFiles, "old-signing-key-files", "", "comma-separated seed files of rotated-out keys: their tokens still verify")
	fs.StringVar(&f.serviceKeys, "service-keys", "", "comma-separated API keys backends use for /v1/upload-tokens (required by `uploader`; `serve` creates DATA/keys/service-key)")
	fs.StringVar(&f.archiveStoreURL, "archive-store", "", "also keep every untouched upload in this store URL (off by default)")
	fs.BoolVar(&f.deferWhenBusy, "defer-when-busy", false, "when the conversion queue is full, store uploads raw and convert them later with the migration worker (202) instead of answering 503")
	fs.StringVar(&f.pendingStoreURL, "pending-store", "", "with --defer-when-busy: where raw uploads wait for conversion; never give it to a resizer (default DATA/pending)")
	fs.Int64Var(&c.BodyMemory, "upload-body-memory", c.BodyMemory, "memory all upload bodies together may hold; past it, 503 at once")
	fs.IntVar(&c.PerSubject, "uploads-per-subject", c.PerSubject, "uploads in progress at once for one subject; past it, 429")
	fs.DurationVar(&c.StoreTimeout, "upload-store-timeout", c.StoreTimeout, "longest a store write may take, retries included; past it, 503")
	fs.Int64Var(&c.MaxBytes, "max-upload-bytes", c.MaxBytes, "largest upload body")
	fs.DurationVar(&c.TokenTTL, "token-ttl", c.TokenTTL, "upload token life when the backend does not ask")
	fs.DurationVar(&c.MaxTokenTTL, "max-token-ttl", c.MaxTokenTTL, "longest upload token life a backend may ask")
	fs.DurationVar(&c.ResultTTL, "result-ttl", c.ResultTTL, "result token life")
	fs.IntVar(&c.Concurrency, "upload-concurrency", c.Concurrency, "conversions at once (default: cores)")
	fs.IntVar(&c.QueueLength, "upload-queue", c.QueueLength, "uploads that may wait for a conversion; past that, 503")
	fs.IntVar(&f.original.MaxEdge, "original-max-edge", f.original.MaxEdge, "long edge cap of stored originals, px (never upscaled)")
	fs.IntVar(&f.original.Quality, "original-quality", f.original.Quality, "WebP quality of stored originals")
}

// keys loads the signing keys and service keys. In development (dev=true)
// missing ones are created under DATA/keys and the log says where; otherwise
// their absence is an error.
func (f *uploaderFlags) keys(data string, dev bool, log *slog.Logger) (*token.KeySet, [][]byte, error) {
	signing := f.signingKeyFile
	if signing == "" && dev {
		signing = filepath.Join(data, "keys", "signing-key")
		if _, created, err := secrets.LoadOrCreate(signing); err != nil {
			return nil, nil, err
		} else if created {
			log.Warn("created a development token signing key", "path", signing)
		}
	}
	if signing == "" {
		return nil, nil, fmt.Errorf("--signing-key-file is required: the uploader signs tokens with it")
	}
	cur, err := loadKey(signing)
	if err != nil {
		return nil, nil, err
	}
	var older []token.Key
	for _, p := range splitList(f.oldKeyFiles) {
		k, err := loadKey(p)
		if err != nil {
			return nil, nil, err
		}
		older = append(older, k)
	}
	ks, err := token.NewKeySet(cur, older...)
	if err != nil {
		return nil, nil, err
	}
	var service [][]byte
	for _, k := range splitList(f.serviceKeys) {
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

func loadKey(path string) (token.Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return token.Key{}, fmt.Errorf("signing key: %w", err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return token.Key{}, fmt.Errorf("signing key %s: not hex: %w", path, err)
	}
	return token.NewKey(seed)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newUploader builds the uploader on store with the flags' settings. With
// --defer-when-busy it also returns the deferred-conversion worker, for the
// caller to run for the server's lifetime.
func (f *uploaderFlags) newUploader(ctx context.Context, sf *storeFlags, st storage.Store, dev bool, log *slog.Logger, reg prometheus.Registerer) (*uploader.Handler, *migrate.Worker, error) {
	ks, service, err := f.keys(sf.data, dev, log)
	if err != nil {
		return nil, nil, err
	}
	in, err := sf.ingester(st, f.original, log)
	if err != nil {
		return nil, nil, err
	}
	var archive uploader.Archive
	if f.archiveStoreURL != "" {
		if archive, err = storeurl.Open(ctx, f.archiveStoreURL, sf.s3Defaults()); err != nil {
			return nil, nil, fmt.Errorf("--archive-store: %w", err)
		}
	}
	h, err := uploader.New(in, ks, service, archive, f.cfg, log, reg)
	if err != nil || !f.deferWhenBusy {
		return h, nil, err
	}
	state, err := openState("", filepath.Join(sf.data, "deferred"), sf.data)
	if err != nil {
		return nil, nil, err
	}
	pendingURL := f.pendingStoreURL
	if pendingURL == "" {
		pendingURL = filepath.Join(sf.data, "pending")
	}
	pending, err := storeurl.Open(ctx, pendingURL, sf.s3Defaults())
	if err != nil {
		return nil, nil, fmt.Errorf("--pending-store: %w", err)
	}
	queue := state.Queue(5)
	h.SetDeferrer(migrate.Deferred{Pending: pending, Queue: queue})
	return h, migrate.NewWorker(pending, st, in, state, queue, migrate.WorkerConfig{Concurrency: 1}, log), nil
}
