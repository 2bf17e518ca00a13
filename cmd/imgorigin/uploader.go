package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/imgorigin/imgorigin/internal/secrets"
	"github.com/imgorigin/imgorigin/role"
	"github.com/imgorigin/imgorigin/token"
)

// uploaderFlags fill a role.Uploads.
type uploaderFlags struct {
	role.Uploads
	oldKeyFiles string
	serviceKeys string
}

// uploads is the flags' role.Uploads.
func (f *uploaderFlags) uploads() *role.Uploads {
	u := f.Uploads
	u.OldKeyFiles, u.ServiceKeys = splitList(f.oldKeyFiles), splitList(f.serviceKeys)
	return &u
}

func (f *uploaderFlags) register(fs *flag.FlagSet) {
	f.Uploads = role.DefaultUploads()
	c := &f.Config
	fs.StringVar(&f.SigningKeyFile, "signing-key-file", "", "PEM (PKCS #8) private key that signs tokens, from `imgorigin keys generate` (required by `uploader`; `serve` creates DATA/keys/signing-key.pem); a hex Ed25519 seed file also works")
	fs.StringVar(&f.oldKeyFiles, "old-signing-key-files", "", "comma-separated key files of rotated-out keys: published in the JWKS, their tokens still verify")
	fs.StringVar(&f.TokenAlg, "token-alg", token.ES256, "token signing algorithm: ES256 (every JWT library verifies it) or EdDSA; the signing key must be of this kind")
	fs.StringVar(&f.TokenIssuer, "token-issuer", "", "iss of every token, which backends check: the URL clients upload to (default http://ADDR)")
	fs.StringVar(&f.serviceKeys, "service-keys", "", "comma-separated API keys backends use for /v1/upload-tokens (required by `uploader`; `serve` creates DATA/keys/service-key)")
	fs.StringVar(&f.CloudFrontDistribution, "cloudfront-distribution", "", "a CloudFront distribution id to invalidate /KEY* in for every deleted photo, in batches (credentials from the standard AWS chain)")
	fs.StringVar(&f.ArchiveStore, "archive-store", "", "also keep every untouched upload in this store URL (off by default)")
	fs.BoolVar(&f.DeferWhenBusy, "defer-when-busy", false, "when the conversion queue is full, store uploads raw and convert them later, in the background (202) instead of answering 503")
	fs.StringVar(&f.PendingStore, "pending-store", "", "with --defer-when-busy: where raw uploads wait for conversion; never give it to a resizer (default DATA/pending)")
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
	fs.IntVar(&f.Original.MaxEdge, "original-max-edge", f.Original.MaxEdge, "long edge cap of stored originals, px (never upscaled)")
	fs.IntVar(&f.Original.Quality, "original-quality", f.Original.Quality, "WebP quality of stored originals")
	fs.IntVar(&f.Original.SmallEdge, "original-small-copy-edge", f.Original.SmallEdge, "long edge of the small copy stored beside each original that has at least twice its pixels, px (0: none)")
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
