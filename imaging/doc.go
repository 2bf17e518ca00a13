// Package imaging is the libvips pipeline: it sniffs and probes untrusted bytes,
// renders thumbnails with shrink-on-load, converts uploads into WebP originals and
// encodes every output format. It knows nothing of HTTP or storage.
//
// Every decode, resize and encode goes through govips; no pixel is touched in Go.
// Start must be called once per process before anything else here.
package imaging
