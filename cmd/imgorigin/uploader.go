package main

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	tokenAlg        string
	tokenIssuer     string
}

func (f *uploaderFlags) register(fs *flag.FlagSet) {
	f.cfg = uploader.DefaultConfig()
	f.original = imaging.DefaultOriginal()
	c := &f.cfg
	fs.StringVar(&f.signingKeyFile, "signing-key-file", "", "PEM (PKCS #8) private key that signs tokens, from `imgorigin keys generate` (required by `uploader`; `serve` creates DATA/keys/signing-key.pem); a hex Ed25519 seed file also works")
	fs.StringVar(&f.oldKeyFiles, "old-signing-key-files", "", "comma-separated key files of rotated-out keys: published in the JWKS, their tokens still verify")
	fs.StringVar(&f.tokenAlg, "token-alg", token.ES256, "token signing algorithm: ES256 (every JWT library verifies it) or EdDSA; the signing key must be of this kind")
	fs.StringVar(&f.tokenIssuer, "token-issuer", "", "iss of every token, which backends check: the URL clients upload to (default http://ADDR)")
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
	fs.IntVar(&c.MaxUploadsPerToken, "max-uploads-per-token", c.MaxUploadsPerToken, "most objects a backend may let one upload token store (max_uploads; a token that asks none stores one)")
	fs.IntVar(&c.Concurrency, "upload-concurrency", c.Concurrency, "conversions at once (default: cores)")
	fs.IntVar(&c.QueueLength, "upload-queue", c.QueueLength, "uploads that may wait for a conversion; past that, 503")
	fs.IntVar(&f.original.MaxEdge, "original-max-edge", f.original.MaxEdge, "long edge cap of stored originals, px (never upscaled)")
	fs.IntVar(&f.original.Quality, "original-quality", f.original.Quality, "WebP quality of stored originals")
}

// keys loads the signing keys and service keys. In development (dev=true)
// missing ones are created under DATA/keys and the log says where; otherwise
// their absence is an error.
func (f *uploaderFlags) keys(data, addr string, dev bool, log *slog.Logger) (*token.KeySet, [][]byte, error) {
	signing := f.signingKeyFile
	var older []token.Key
	if signing == "" && dev {
		signing = filepath.Join(data, "keys", "signing-key.pem")
		if created, err := token.CreateKeyFile(signing, f.tokenAlg); err != nil {
			return nil, nil, err
		} else if created {
			log.Warn("created a development token signing key", "path", signing, "alg", f.tokenAlg)
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
	if cur.Alg != f.tokenAlg {
		return nil, nil, fmt.Errorf("the signing key %s is %s, but --token-alg is %s", signing, cur.Alg, f.tokenAlg)
	}
	for _, p := range splitList(f.oldKeyFiles) {
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
	ks.Issuer = f.tokenIssuer
	if ks.Issuer == "" {
		ks.Issuer = "http://" + addr
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

// keysCmd is `imgorigin keys generate`: a new token signing key as PEM.
func keysCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "generate" {
		return errors.New("usage: imgorigin keys generate [--alg ES256|EdDSA] [--out FILE]")
	}
	fs := flag.NewFlagSet("keys generate", flag.ContinueOnError)
	alg := fs.String("alg", token.ES256, "ES256 or EdDSA")
	out := fs.String("out", "", "write the PEM to this file (mode 0600; refused if it exists) instead of standard output")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	k, b, err := token.GenerateKeyPEM(*alg)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(b)
	} else {
		err = secrets.WriteNew(*out, b)
	}
	if err == nil {
		fmt.Fprintf(os.Stderr, "generated an %s key, kid %s\n", k.Alg, k.ID)
	}
	return err
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

// pendingURL is where deferred uploads wait raw: --pending-store, else
// DATA/pending; "" without --defer-when-busy.
func (f *uploaderFlags) pendingURL(data string) string {
	if !f.deferWhenBusy {
		return ""
	}
	return cmp.Or(f.pendingStoreURL, filepath.Join(data, "pending"))
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

// newUploader builds the uploader on store with the flags' settings. With
// --defer-when-busy it also returns the deferred-conversion worker, for the
// caller to run for the server's lifetime.
func (f *uploaderFlags) newUploader(ctx context.Context, sf *storeFlags, st storage.Store, addr string, dev bool, log *slog.Logger, reg prometheus.Registerer) (*uploader.Handler, *migrate.Worker, error) {
	ks, service, err := f.keys(sf.data, addr, dev, log)
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
	pending, err := storeurl.Open(ctx, f.pendingURL(sf.data), sf.s3Defaults())
	if err != nil {
		return nil, nil, fmt.Errorf("--pending-store: %w", err)
	}
	queue := state.Queue(5)
	h.SetDeferrer(migrate.Deferred{Pending: pending, Queue: queue})
	return h, migrate.NewWorker(pending, st, in, state, queue, migrate.WorkerConfig{Concurrency: 1}, log), nil
}
