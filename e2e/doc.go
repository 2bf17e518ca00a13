// Package e2e runs the imgorigin binary as users run it and points the
// clients they already have at it: imgix's JavaScript library, Next.js's
// imgix loader, the signers in clients/, and headless Chromium. Its tests
// need what `make test` installs (Node packages, Chromium) and fail loudly
// without them.
package e2e
