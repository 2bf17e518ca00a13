package uploader

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/imgorigin/imgorigin/internal/httperr"
)

// errBodyMemory means the upload bodies in memory hold the whole budget: 503.
var errBodyMemory = func() *httperr.Error {
	e := httperr.Unavailable("the uploader is receiving too many uploads; retry shortly", nil)
	e.Close = true // the body is not read
	return e
}()

// firstChunk is the most an upload holds before its bytes arrive: a client
// declaring 50 MB and sending one byte costs 64 KiB, not 50 MB.
const firstChunk = 64 << 10

// memoryBudget bounds the bytes all upload bodies in memory hold together.
type memoryBudget struct {
	sem  *semaphore.Weighted
	held atomic.Int64
}

func newMemoryBudget(n int64) *memoryBudget { return &memoryBudget{sem: semaphore.NewWeighted(n)} }

func (b *memoryBudget) take(n int64) bool {
	if !b.sem.TryAcquire(n) {
		return false
	}
	b.held.Add(n)
	return true
}

func (b *memoryBudget) give(n int64) {
	b.held.Add(-n)
	b.sem.Release(n)
}

// readBody reads the image from a raw image/* body or the "file" part of a
// multipart form, never more than limit bytes (413 past it), cutting a client
// that stalls longer than IdleTimeout or takes longer than ReadTimeout. The
// body's memory is charged to the budget until release is called.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, contentType string, release func(), err error) {
	if r.ContentLength > limit {
		return nil, "", nil, tooLarge(limit)
	}
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(h.cfg.ReadTimeout)
	raw := &idleReader{r: http.MaxBytesReader(w, r.Body, limit+64<<10), rc: rc, idle: h.cfg.IdleTimeout, deadline: deadline}
	var src io.Reader
	contentType, params := mediaType(r)
	switch {
	case contentType == "multipart/form-data":
		if params["boundary"] == "" {
			return nil, "", nil, badRequest("multipart body without a boundary")
		}
		mr := multipart.NewReader(raw, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				return nil, "", nil, readErr(err, limit, "no \"file\" part in the multipart body")
			}
			if part.FormName() == "file" {
				src, contentType = part, part.Header.Get("Content-Type")
				break
			}
		}
	case strings.HasPrefix(contentType, "image/") || contentType == "application/octet-stream":
		src = raw
	case contentType == "":
		return nil, "", nil, unsupported("Content-Type is missing: send image/* or multipart/form-data")
	default:
		return nil, "", nil, unsupported("Content-Type " + contentType + " is not an image: send image/* or multipart/form-data")
	}
	buf, charged, err := h.readCharged(src, r.ContentLength, limit)
	switch {
	case errors.Is(err, errBodyMemory):
	case err != nil:
		err = readErr(err, limit, "")
	case int64(len(buf)) > limit:
		err = tooLarge(limit)
	case len(buf) == 0:
		err = badRequest("the body is empty: send the image")
	}
	if err != nil {
		h.budget.give(charged)
		return nil, "", nil, err
	}
	return buf, contentType, func() { h.budget.give(charged) }, nil
}

// readCharged reads src into a buffer that grows as bytes arrive, doubling
// (towards the declared length when there is one) up to limit+1, and charges
// its capacity to the budget: memory follows what clients send, not what
// their headers claim. It returns the bytes charged, which the caller gives
// back, and errBodyMemory once the budget is spent.
func (h *Handler) readCharged(src io.Reader, declared, limit int64) ([]byte, int64, error) {
	size := int64(firstChunk)
	if declared >= 0 {
		size = min(size, declared+1) // +1: room to see EOF without growing
	}
	if !h.budget.take(size) {
		return nil, 0, errBodyMemory
	}
	charged := size
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return buf, charged, nil
			}
			next := min(2*int64(cap(buf)), limit+1)
			if declared > int64(len(buf)) {
				next = min(next, declared+1)
			}
			if !h.budget.take(next) {
				return nil, charged, errBodyMemory
			}
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			h.budget.give(charged)
			buf, charged = grown, next
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, charged, nil
		}
		if err != nil {
			return nil, charged, err
		}
	}
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
		return httperr.New(http.StatusRequestTimeout, "the upload stalled or took too long")
	case errors.Is(err, io.EOF) && eofMsg != "":
		return badRequest(eofMsg)
	}
	return badRequest("the body could not be read: send the image whole, as image/* or multipart/form-data")
}
