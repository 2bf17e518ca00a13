package uploader

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"time"
)

// readBody reads the image from a raw image/* body or the "file" part of a
// multipart form, never more than limit bytes (413 past it), cutting a client
// that stalls longer than IdleTimeout or takes longer than ReadTimeout.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, string, error) {
	if r.ContentLength > limit {
		return nil, "", tooLarge(limit)
	}
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(h.cfg.ReadTimeout)
	body := &idleReader{r: http.MaxBytesReader(w, r.Body, limit+64<<10), rc: rc, idle: h.cfg.IdleTimeout, deadline: deadline}
	var src io.Reader
	contentType, params := mediaType(r)
	switch {
	case contentType == "multipart/form-data":
		if params["boundary"] == "" {
			return nil, "", badRequest("multipart body without a boundary")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				return nil, "", readErr(err, limit, "no \"file\" part in the multipart body")
			}
			if part.FormName() == "file" {
				src, contentType = part, part.Header.Get("Content-Type")
				break
			}
		}
	case strings.HasPrefix(contentType, "image/") || contentType == "application/octet-stream":
		src = body
	case contentType == "":
		return nil, "", unsupported("Content-Type is missing: send image/* or multipart/form-data")
	default:
		return nil, "", unsupported("Content-Type " + contentType + " is not an image: send image/* or multipart/form-data")
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// MinRead more than the body: ReadFrom probes for EOF with that much
		// free room, and without it would copy the whole upload to a buffer
		// twice the size just to read zero bytes.
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	if err != nil {
		return nil, "", readErr(err, limit, "")
	}
	if n > limit {
		return nil, "", tooLarge(limit)
	}
	if n == 0 {
		return nil, "", badRequest("the body is empty: send the image")
	}
	return buf.Bytes(), contentType, nil
}

// idleReader moves the connection's read deadline forward on every read, up
// to the overall deadline: slow but moving clients go on, stalled ones are cut.
type idleReader struct {
	r        io.Reader
	rc       *http.ResponseController
	idle     time.Duration
	deadline time.Time
}

func (ir *idleReader) Read(p []byte) (int, error) {
	next := time.Now().Add(ir.idle)
	if next.After(ir.deadline) {
		next = ir.deadline
	}
	_ = ir.rc.SetReadDeadline(next) // not all writers support it (httptest recorders); then only the server's timeouts apply
	return ir.r.Read(p)
}

func readErr(err error, limit int64, eofMsg string) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return tooLarge(limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &httpError{status: http.StatusRequestTimeout, msg: "the upload stalled or took too long"}
	case errors.Is(err, io.EOF) && eofMsg != "":
		return badRequest(eofMsg)
	}
	return badRequest("reading the body: " + err.Error())
}
