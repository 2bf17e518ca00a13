package uploader

import (
	"errors"
	"net/http"

	"github.com/imgorigin/imgorigin/internal/httperr"
	"github.com/imgorigin/imgorigin/token"
)

// tokenRefusal is what a client is told of a refused upload token: the kind,
// never the parser's own words.
func tokenRefusal(err error) string {
	switch {
	case errors.Is(err, token.ErrExpired):
		return "the upload token has expired; ask your backend for a new one"
	case errors.Is(err, token.ErrAudience):
		return "this is not an upload token"
	case errors.Is(err, token.ErrNotYetValid):
		return "the upload token is not valid yet; check the clocks"
	case errors.Is(err, token.ErrSignature), errors.Is(err, token.ErrUnknownKey):
		return "the upload token's signature is not valid here"
	}
	return "the upload token is malformed"
}

func errUnauthorized(msg string) error { return httperr.New(http.StatusUnauthorized, "%s", msg) }
func badRequest(msg string) error      { return httperr.New(http.StatusBadRequest, "%s", msg) }
func unsupported(msg string) error     { return httperr.New(http.StatusUnsupportedMediaType, "%s", msg) }
func tooLarge(limit int64) error {
	return httperr.New(http.StatusRequestEntityTooLarge, "the upload is over the %d byte limit", limit)
}
