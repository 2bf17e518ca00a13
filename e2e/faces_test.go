package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/internal/testimage"
)

// faceOnGrey is pigo's sample face on a 1200x800 picture, at 500,150,
// 400 px.
func faceOnGrey(t *testing.T) []byte {
	t.Helper()
	bg := testimage.Photo(t, 1200, 800)
	defer bg.Close()
	return testimage.WithFaces(t, bg, [][3]int{{500, 150, 400}})
}

// fm=json&faces=1 lists the face of a photo uploaded, imported (imgorigin
// import) and put in the store by another program (found on the read), in
// the original's pixels.
func TestFacesOfEveryWayIn(t *testing.T) {
	src := faceOnGrey(t)
	s := serve(t)
	uploaded, _ := s.upload(t, src)
	file := filepath.Join(t.TempDir(), "face.jpg")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary(t), "import", "--data", s.Data, file).CombinedOutput()
	var imported struct{ Key string }
	if err != nil || json.Unmarshal(out[strings.LastIndex(string(out), "{"):], &imported) != nil || imported.Key == "" {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(s.Data, "originals", "raw.jpg"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{"uploaded": uploaded, "imported": imported.Key, "placed": "raw.jpg"} {
		a, err := httpGet(s.URL + "/" + key + "?fm=json&faces=1")
		if err != nil || a.status != 200 {
			t.Fatalf("%s: %v %d %s", name, err, a.status, a.body)
		}
		var info struct {
			Faces []struct{ X, Y, Width int }
		}
		if err := json.Unmarshal(a.body, &info); err != nil {
			t.Fatal(err)
		}
		// The face is about 220 px of the 400 px sample, around its middle.
		if len(info.Faces) != 1 || info.Faces[0].X < 500 || info.Faces[0].X > 700 || info.Faces[0].Width < 150 {
			t.Errorf("%s: faces %+v, want the one at about x=540", name, info.Faces)
		}
	}
}
