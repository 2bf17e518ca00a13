// Package resizer answers GET and HEAD /{key}?params from the originals in a
// store: imgix-style parameters parsed once into canonical Options, originals
// and rendered variants in byte-bounded memory caches, one store fetch and one
// render however many ask at once, a bounded render pool that sheds load with
// 503 instead of queueing forever, and headers a CDN can cache for a year.
package resizer
