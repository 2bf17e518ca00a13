package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/bench"
)

// The benchmark's strangers attack against the real binary: what a
// stranger can ask without a signature is refused before the work or
// bounded, and after it the victim photo's srcset sizes still answer.
// The budgets are small so that the flood ends in seconds.
func TestStrangersAttack(t *testing.T) {
	s := serve(t, "--unsigned-render-per-client", "2s", "--unsigned-render-per-original", "1s")
	rep, err := bench.Attack(context.Background(), "strangers", bench.AttackConfig{
		URL: s.URL, AdminURL: "http://" + s.Admin, ServiceKey: serviceKey, StoreDir: filepath.Join(s.Data, "originals"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	for figure, want := range map[string]string{
		"animation_100_frames_full":          "map[400:3]", // 2.6 s of CPU before
		"animation_100_frames_w240":          "map[400:3]",
		"blur_avif_w2048":                    "map[400:3]",
		"blur_avif_w1080":                    "map[200:3]",
		"ranges_3000":                        "(1.0x)", // 42.8x before
		"utm_variants_20":                    "1 renders",
		"png_2000_ztxt_upload":               "422", // 4.4 s before
		"plain_directory_png_2000_ztxt_w320": "map[422:3]",
		"plain_directory_4000px_no_size":     "map[200:3]",
		"srcset_after_lock":                  "0 of 42 not 200", // 42 of 42 were 429 before
	} {
		if got := rep.Figures[figure]; !strings.Contains(fmt.Sprint(got), want) {
			t.Errorf("%s: %v, want %q", figure, got, want)
		}
	}
	if got := fmt.Sprint(rep.Figures["lock_1152_variants"]); !strings.Contains(got, "429:") {
		t.Errorf("1,152 exotic variants from one address: %s, want refusals past the budgets", got)
	}
}
