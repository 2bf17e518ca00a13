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
// faces).
func group(t testing.TB, faces bool) []byte {
	t.Helper()
	canvas := testimage.Photo(t, 1600, 1000)
	defer canvas.Close()
	if err := canvas.Linear([]float64{1.6, 0.4, 1.8}, []float64{-40, 60, -80}); err != nil { // saturated
		t.Fatal(err)
	}
	if err := canvas.Cast(vips.BandFormatUchar); err != nil {
		t.Fatal(err)
	}
	var places [][3]int
	for _, p := range groupPlaces {
		if faces {
			places = append(places, [3]int{p.x, p.y, p.side})
		}
	}
	return testimage.WithFaces(t, canvas, places)
}
