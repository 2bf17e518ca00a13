// Package imaging is the libvips pipeline: it sniffs and probes untrusted bytes,
// renders thumbnails with shrink-on-load, converts uploads into WebP originals and
// encodes every output format. It knows nothing of HTTP or storage.
//
// Every decode, resize and encode goes through govips. Go reads pixels only
// where libvips has no such thing: a placeholder's average colour and
// ThumbHash (of at most 100 x 100 pixels) and SSIM, which the benchmark
// measures originals with.
// Start must be called once per process before anything else here.
package imaging
