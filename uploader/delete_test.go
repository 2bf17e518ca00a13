package uploader

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/storage"
)

// A backend deletes a photo for good with its service key: the original and
// its small copy are gone from the store and from this process's resizer caches, its
// neighbours stay, and asking again is no error. Anyone else is refused,
// and a malformed key deletes nothing.
func TestDeleteOriginals(t *testing.T) {
	st := diskStore(t)
	f := newFixture(t, st, nil)
	tok := f.uploadToken("u", `,"max_uploads":10`)
	var keys []string
	for i := range 3 {
		w := 400 + i
		if i == 0 {
			w = 2600 // large enough for a small copy
		}
		code, res := f.upload(tok, testimage.JPEG(t, testimage.Photo(t, w, 300+w/2)))
		if code != 201 {
			t.Fatalf("upload: %d %v", code, res)
		}
		keys = append(keys, res["key"].(string))
	}
	victim, neighbour := keys[0], keys[1]
	stored := func(key string) bool {
		_, err := st.Head(context.Background(), key)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	if !stored(victim) || !stored(ingest.SmallKey(victim)) {
		t.Fatal("the large photo was stored without its small copy")
	}
	get := func(key string) int {
		resp, err := http.Get(f.srv.URL + "/" + key + "?w=64")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get(victim) != 200 {
		t.Fatal("the photo does not render before its delete")
	}
	for _, c := range []struct {
		name, auth, key string
		status          int
	}{
		{"no service key", "", victim, 401},
		{"a wrong key", "not-the-service-key", victim, 403},
		{"an upload token", tok, victim, 403},
		{"a hidden name", serviceKey, ".imgorigin/tmp", 400},
		{"a backslash", serviceKey, "a%5Cb", 400},
	} {
		if code, m := f.do("DELETE", "/v1/originals/"+c.key, c.auth, "", nil); code != c.status || m["error"] == nil {
			t.Errorf("%s: %d %v, want %d with a reason", c.name, code, m, c.status)
		}
	}
	if get(victim) != 200 {
		t.Fatal("a refused delete deleted the photo")
	}
	for range 2 { // idempotent
		if code, m := f.do("DELETE", "/v1/originals/"+victim, serviceKey, "", nil); code != 200 || m["deleted"] != true {
			t.Fatalf("delete: %d %v", code, m)
		}
	}
	if get(victim) != 404 {
		t.Errorf("the deleted photo still renders (this process's resizer must forget it at once)")
	}
	if stored(victim) || stored(ingest.SmallKey(victim)) {
		t.Errorf("the deleted photo left an object behind: original %v, small copy %v", stored(victim), stored(ingest.SmallKey(victim)))
	}
	if get(neighbour) != 200 {
		t.Errorf("its neighbour no longer renders")
	}

	// Batches: all well formed or nothing deleted; at most 1,000 keys.
	batch := func(keys ...string) (int, map[string]any) {
		b, _ := json.Marshal(map[string]any{"keys": keys})
		return f.post("/v1/originals/delete", serviceKey, "application/json", bytes.NewReader(b))
	}
	if code, m := batch(neighbour, "bad//key"); code != 400 || !strings.Contains(fmt.Sprint(m["error"]), "bad//key") {
		t.Errorf("a batch with a malformed key: %d %v, want 400 naming it", code, m)
	}
	if get(neighbour) != 200 {
		t.Fatal("a refused batch deleted a key")
	}
	var many []string
	for i := range 1000 {
		many = append(many, fmt.Sprintf("never-stored-%d", i))
	}
	if code, m := batch(append(many, "one-too-many")...); code != 400 {
		t.Errorf("1,001 keys: %d %v, want 400", code, m)
	}
	many[500] = neighbour
	if code, m := batch(many...); code != 200 || m["deleted"] != float64(1000) {
		t.Errorf("1,000 keys: %d %v", code, m)
	}
	if get(neighbour) != 404 || get(keys[2]) != 200 {
		t.Errorf("after the batch: the batched key %d (want 404), the one left %d (want 200)", get(neighbour), get(keys[2]))
	}
	for body, want := range map[string]int{`{"keys":"k"}`: 400, `{"Keys":["k"]}`: 400, `{"keys":[]}`: 400, `{"keys":["k"]} x`: 400} {
		if code, _ := f.post("/v1/originals/delete", serviceKey, "application/json", strings.NewReader(body)); code != want {
			t.Errorf("%s: %d, want %d", body, code, want)
		}
	}
}

// The facts of an upload are kept with its original and can be asked for
// any time: fm=json answers the 201's size and placeholder, read with the
// original's HEAD.
func TestFactsKeptWithTheOriginal(t *testing.T) {
	st := diskStore(t)
	f := newFixture(t, st, nil)
	code, res := f.upload(f.uploadToken("u", ""), testimage.JPEG(t, testimage.Photo(t, 900, 600)))
	if code != 201 {
		t.Fatalf("upload: %d %v", code, res)
	}
	key := res["key"].(string)
	info, err := st.Head(t.Context(), key)
	if err != nil || info.Meta["color"] == "" || info.Meta["width"] != "900" {
		t.Fatalf("the stored original's metadata: %v %v, want its facts", info.Meta, err)
	}
	resp, err := http.Get(f.srv.URL + "/" + key + "?fm=json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]any
	json.NewDecoder(resp.Body).Decode(&got)
	ph := res["placeholder"].(map[string]any)
	if got["width"] != res["width"] || got["height"] != res["height"] || got["format"] != "webp" || got["color"] != ph["color"] || got["thumbhash"] != ph["thumbhash"] {
		t.Errorf("fm=json %v, want the upload's %v", got, res)
	}
}
