package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The CloudFront Function docs/cloudfront.md gives, run by Node.js on
// viewer requests as CloudFront builds them: parameters the origin ignores
// leave unsigned URLs (so they make no new cache keys), signed ones keep
// them (imgix signatures cover them), and Accept collapses to the format the
// resizer will choose.
func TestCloudFrontFunction(t *testing.T) {
	doc, err := os.ReadFile("../docs/cloudfront.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```js\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/cloudfront.md has no js block")
	}
	script := filepath.Join(t.TempDir(), "function.js")
	harness := `
const events = JSON.parse(process.argv[2]);
console.log(JSON.stringify(events.map(e => handler({ request: e }))));`
	if err := os.WriteFile(script, append(m[1], harness...), 0o644); err != nil {
		t.Fatal(err)
	}
	qs := func(kv ...string) map[string]any {
		q := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			q[kv[i]] = map[string]string{"value": kv[i+1]}
		}
		return q
	}
	events := []map[string]any{
		{"querystring": qs("w", "320", "ixlib", "js-3.8.0", "utm_source", "mail", "utm_campaign", "x", "auto", "format"),
			"headers": map[string]any{"accept": map[string]string{"value": "image/avif,image/webp,*/*"}}},
		{"querystring": qs("w", "320", "ixlib", "js-3.8.0", "s", "abc"), "headers": map[string]any{"accept": map[string]string{"value": "image/webp"}}},
	}
	arg, _ := json.Marshal(events)
	var out []struct {
		Querystring map[string]struct{ Value string }
		Headers     map[string]struct{ Value string }
	}
	if err := json.Unmarshal(run(t, "node", script, string(arg)), &out); err != nil || len(out) != 2 {
		t.Fatalf("the function's output: %v %+v", err, out)
	}
	var kept []string
	for k := range out[0].Querystring {
		kept = append(kept, k)
	}
	if len(kept) != 2 || out[0].Querystring["w"].Value != "320" || out[0].Headers["accept"].Value != "image/avif" {
		t.Errorf("unsigned: query %v, Accept %q; want only w and auto, Accept image/avif", kept, out[0].Headers["accept"].Value)
	}
	if out[1].Querystring["ixlib"].Value != "js-3.8.0" || out[1].Headers["accept"].Value != "" {
		t.Errorf("signed: %+v; want ixlib kept (the signature covers it) and no Accept (no auto=format)", out[1])
	}
	if strings.Contains(string(m[1]), "require(") {
		t.Error("the function requires modules CloudFront Functions do not have")
	}
}
