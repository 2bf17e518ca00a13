package faces_test

import (
	"testing"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/internal/testimage"
)

// placed is where a face goes: its square's corner and side.
type placed struct{ x, y, side int }

// groupPlaces are where group puts its three faces, on a 1600x1000 canvas.
var groupPlaces = []placed{{150, 200, 420}, {800, 120, 260}, {1250, 550, 170}}

// group makes a busy, saturated 1600x1000 picture (a colour gradient with
// noise) with the sample's face at three scales and places (none without
// a sample).
func group(t testing.TB, sample []byte) []byte {
	t.Helper()
	canvas := testimage.Photo(t, 1600, 1000)
	defer canvas.Close()
	if err := canvas.Linear([]float64{1.6, 0.4, 1.8}, []float64{-40, 60, -80}); err != nil { // saturated
		t.Fatal(err)
	}
	if err := canvas.Cast(vips.BandFormatUchar); err != nil {
		t.Fatal(err)
	}
	for _, p := range groupPlaces {
		if sample == nil {
			break
		}
		face, err := vips.NewImageFromBuffer(sample)
		if err != nil {
			t.Fatal(err)
		}
		// The sample is a head and shoulders; its face is the square at
		// (34, 81), 245 px, of the 450 px wide photo: keep a margin round it.
		if err := face.ExtractArea(0, 30, face.Width(), min(face.Height()-30, face.Width())); err != nil {
			t.Fatal(err)
		}
		if err := face.Resize(float64(p.side)/float64(face.Width()), vips.KernelLanczos3); err != nil {
			t.Fatal(err)
		}
		if face.Bands() < 3 {
			if err := face.ToColorSpace(vips.InterpretationSRGB); err != nil {
				t.Fatal(err)
			}
		}
		if err := canvas.Insert(face, p.x, p.y, false, nil); err != nil {
			t.Fatal(err)
		}
		face.Close()
	}
	return testimage.JPEG(t, canvas)
}
