package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
)

// maxRequestID bounds an X-Request-Id taken from a caller: it is echoed and
// written into every log line of the request.
const maxRequestID = 128

// requestIDs gives every request an id: the caller's X-Request-Id when it is
// a sane one (a load balancer's or the app's, so one id follows a request
// across hops), else a new one (chi's RequestID). The id is echoed in the
// answer and put in the context, where LogHandler finds it.
func requestIDs(next http.Handler) http.Handler {
	withID := middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(middleware.RequestIDHeader, middleware.GetReqID(r.Context()))
		next.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get(middleware.RequestIDHeader); id != "" && !saneID(id) {
			r.Header.Del(middleware.RequestIDHeader)
		}
		withID.ServeHTTP(w, r)
	})
}

// saneID: at most maxRequestID printable ASCII characters, no spaces.
func saneID(id string) bool {
	if len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// RequestID is the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string { return middleware.GetReqID(ctx) }

// LogHandler adds request_id to every record logged with a request's
// context (log.InfoContext(r.Context(), ...)), so access and error lines of
// one request can be found together.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
