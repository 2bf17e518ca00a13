package faces_test

import (
	"testing"

	"github.com/imgorigin/imgorigin/faces"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
)

func TestMain(m *testing.M) { testimage.Main(m) }

func detect(t testing.TB, src []byte, edge int) []faces.Box {
	t.Helper()
	h, err := imaging.Probe(src)
	if err != nil {
		t.Fatal(err)
	}
	gray, w, ht, _, err := imaging.Gray(src, h, edge)
	if err != nil {
		t.Fatal(err)
	}
	boxes, err := faces.Detect(gray, w, ht)
	if err != nil {
		t.Fatal(err)
	}
	return boxes
}

// The sample's face is found once; the group's three faces, at three
// scales on a busy, saturated picture, are all found, each where it was
// put, at every size faces could be looked for at.
func TestFindsTheFaces(t *testing.T) {
	sample := testimage.FaceSample(t)
	defer sample.Close()
	if got := detect(t, testimage.JPEG(t, sample), 640); len(got) != 1 || got[0].Score < faces.MinScore {
		t.Errorf("pigo's sample: %+v, want its one face", got)
	}
	g := group(t, true)
	for _, edge := range []int{512, 640, 800} {
		got := detect(t, g, edge)
		if len(got) != len(groupPlaces) {
			t.Errorf("group at %d px: %d faces %+v, want %d", edge, len(got), got, len(groupPlaces))
			continue
		}
		k := float64(edge) / 1600
		for i, p := range groupPlaces { // the largest first, as placed
			cx, cy := float64(got[i].X+got[i].Size/2)/k, float64(got[i].Y+got[i].Size/2)/k
			if cx < float64(p.x) || cx > float64(p.x+p.side) || cy < float64(p.y) || cy > float64(p.y+p.side) {
				t.Errorf("group at %d px: face %d centred at %.0f,%.0f, outside where it was put %+v", edge, i, cx, cy, p)
			}
		}
	}
	// Nothing but the busy picture: no face.
	if got := detect(t, group(t, false), 640); len(got) != 0 {
		t.Errorf("the busy picture alone: %+v, want no face", got)
	}
}

// BenchmarkDetect is what finding faces costs an upload: pigo on the 640 px
// grayscale copy ingest makes.
func BenchmarkDetect(b *testing.B) {
	g := group(b, true)
	h, _ := imaging.Probe(g)
	gray, w, ht, _, err := imaging.Gray(g, h, 640)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := faces.Detect(gray, w, ht); err != nil {
			b.Fatal(err)
		}
	}
}
