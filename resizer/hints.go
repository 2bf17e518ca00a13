package resizer

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// clientHints lists the hints a request's ch asks to be used: width, dpr,
// save-data (imgix's names, any case).
func clientHints(q url.Values) []string {
	v := q.Get("ch")
	if v == "" {
		return nil
	}
	return strings.Split(strings.ToLower(v), ",")
}

// hintHeaders are the request headers Client Hints arrive in, the current
// Sec-CH- names first; answers to URLs with ch vary by them.
var hintHeaders = map[string][]string{"width": {"Sec-CH-Width", "Width"}, "dpr": {"Sec-CH-DPR", "DPR"}, "save-data": {"Save-Data"}}

// applyHints turns the Client Hints that ch names into the parameters they
// stand for, where the URL does not give them: the Width hint is w (in
// device pixels, so dpr is not applied to it), the DPR hint dpr, and
// Save-Data: on the quality of auto=compress. The rest of the request
// (the ladder, the canonical form, the cache key) sees only parameters.
func applyHints(q url.Values, h http.Header) url.Values {
	hints := clientHints(q)
	if len(hints) == 0 {
		return q
	}
	header := func(hint string) string {
		for _, name := range hintHeaders[hint] {
			if v := h.Get(name); v != "" {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = v
	}
	widthHint := false
	for _, hint := range hints {
		switch v := header(hint); {
		case v == "":
		case hint == "width" && !out.Has("w"):
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 1 && f <= 8192 {
				out.Set("w", strconv.Itoa(int(f+0.999)))
				widthHint = true
			}
		case hint == "dpr" && !out.Has("dpr"):
			if d, ok := decimal(v); ok && d > 0 && d <= 5 {
				out.Set("dpr", v)
			}
		case hint == "save-data" && strings.EqualFold(v, "on") && !out.Has("q"):
			out.Set("q", strconv.Itoa(compressQuality))
		}
	}
	if widthHint && !q.Has("dpr") {
		out.Del("dpr") // the Width hint is in device pixels already
	}
	return out
}

// hintVary is what an answer to a URL with ch varies by.
func hintVary(q url.Values) []string {
	var vary []string
	for _, hint := range clientHints(q) {
		vary = append(vary, hintHeaders[hint]...)
	}
	return vary
}
