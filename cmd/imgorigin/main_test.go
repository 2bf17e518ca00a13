package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/storage/s3/s3test"
	"github.com/imgorigin/imgorigin/storage/storagetest"
	"github.com/imgorigin/imgorigin/storage/storeurl"
)

func TestMain(m *testing.M) { testimage.Main(m) }

type importLine struct {
	File   string `json:"file"`
	Key    string `json:"key"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int64  `json:"bytes"`
	Error  string `json:"error"`
}

// import a JPEG, then read the returned key from the store: the bytes are the
// stored WebP original, with the size and dimensions import printed.
func TestImportThenReadBack(t *testing.T) {
	dir := t.TempDir()
	photo := testimage.Photo(t, 3000, 2000)
	jpg := filepath.Join(dir, "photo.jpg")
	if err := os.WriteFile(jpg, testimage.JPEG(t, photo), 0o644); err != nil {
		t.Fatal(err)
	}
	photo.Close()
	stores := map[string]string{
		"disk": "file://" + filepath.Join(dir, "originals"),
		"s3":   "s3://" + s3test.NewBucket(t) + "/originals?path_style=true&endpoint=" + storagetest.S3Endpoint(t),
	}
	for name, storeURL := range stores {
		t.Run(name, func(t *testing.T) {
			data := filepath.Join(dir, "data-"+name)
			var out bytes.Buffer
			if err := importFiles([]string{"--data", data, "--store", storeURL, "--log-level", "warn", jpg}, &out); err != nil {
				t.Fatalf("import: %v\n%s", err, out.String())
			}
			var line importLine
			if err := json.Unmarshal(out.Bytes(), &line); err != nil {
				t.Fatalf("output %q: %v", out.String(), err)
			}
			if line.File != jpg || len(line.Key) != 32 || line.Width != 2560 || line.Height != 1707 || line.Bytes <= 0 {
				t.Fatalf("import line %+v: want a 128-bit hex key and the original capped at 2560 px", line)
			}
			st, err := storeurl.Open(context.Background(), storeURL, storeurl.S3Defaults{})
			if err != nil {
				t.Fatal(err)
			}
			obj, err := st.Get(context.Background(), line.Key)
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			if f, ok := facts.FromMeta(obj.Meta); !ok || f.Width != 2560 || f.Height != 1707 || f.Color == "" {
				t.Errorf("the facts kept with the imported original: %+v (%v)", f, ok)
			}
			h, err := imaging.Probe(stored)
			if err != nil || h.Format != imaging.WebP || h.Width != line.Width || h.Height != line.Height || int64(len(stored)) != line.Bytes || obj.ContentType != "image/webp" {
				t.Fatalf("stored object: %+v, %d bytes, %q, %v; import said %+v", h, len(stored), obj.ContentType, err, line)
			}
			// Importing the same file again is idempotent: same key, same bytes.
			before := sha256.Sum256(stored)
			out.Reset()
			if err := importFiles([]string{"--data", data, "--store", storeURL, "--log-level", "warn", jpg}, &out); err != nil {
				t.Fatal(err)
			}
			var again importLine
			_ = json.Unmarshal(out.Bytes(), &again)
			obj, _ = st.Get(context.Background(), line.Key)
			stored, _ = io.ReadAll(obj.Body)
			obj.Body.Close()
			if again.Key != line.Key || sha256.Sum256(stored) != before {
				t.Fatalf("re-import changed things: key %s -> %s", line.Key, again.Key)
			}
		})
	}
}

func TestImportReportsBadFilesAndGoesOn(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.png")
	bad := filepath.Join(dir, "bad.jpg")
	photo := testimage.Photo(t, 100, 80)
	os.WriteFile(good, testimage.PNG(t, photo), 0o644)
	photo.Close()
	os.WriteFile(bad, []byte("<html>not an image</html>"), 0o644)
	var out bytes.Buffer
	err := importFiles([]string{"--data", dir, "--log-level", "warn", bad, good}, &out)
	if err == nil {
		t.Fatal("import with a bad file exited successfully")
	}
	var lines []importLine
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var l importLine
		json.Unmarshal(sc.Bytes(), &l)
		lines = append(lines, l)
	}
	if len(lines) != 2 || lines[0].Error == "" || lines[1].Key == "" || lines[1].Width != 100 {
		t.Fatalf("lines = %+v", lines)
	}
}

// A folder of photos as users have them: import walks it (sub-folders
// included, hidden entries left out), and the data store is the folder of
// originals, one plain file per key.
func TestImportTakesDirectories(t *testing.T) {
	dir := t.TempDir()
	photos := filepath.Join(dir, "photos")
	for i, name := range []string{"a.png", "2019/b.png", "2019/trip/c.png", ".hidden/d.png"} {
		os.MkdirAll(filepath.Dir(filepath.Join(photos, name)), 0o755)
		photo := testimage.Photo(t, 90+i, 80)
		os.WriteFile(filepath.Join(photos, name), testimage.PNG(t, photo), 0o644)
		photo.Close()
	}
	var out bytes.Buffer
	data := filepath.Join(dir, "data")
	if err := importFiles([]string{"--data", data, "--log-level", "warn", photos}, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	// To a named store of a fleet: keys name it, files land in it.
	var named bytes.Buffer
	stores := "tokyo=" + filepath.Join(dir, "tokyo") + ",frankfurt=" + filepath.Join(dir, "frankfurt")
	if err := importFiles([]string{"--data", data, "--log-level", "warn", "--stores", stores, "--home", "frankfurt", filepath.Join(photos, "a.png")}, &named); err != nil {
		t.Fatalf("import --home: %v\n%s", err, named.String())
	}
	var line importLine
	json.Unmarshal(named.Bytes(), &line)
	if _, err := os.Stat(filepath.Join(dir, "frankfurt", line.Key)); err != nil || !strings.HasPrefix(line.Key, "frankfurt-") {
		t.Fatalf("import --home frankfurt: key %q, %v", line.Key, err)
	}
	var files []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var l importLine
		json.Unmarshal(sc.Bytes(), &l)
		if l.Key == "" {
			t.Fatalf("line %s", sc.Text())
		}
		if _, err := os.Stat(filepath.Join(data, "originals", l.Key)); err != nil {
			t.Fatalf("the original of %s is not the plain file DATA/originals/%s: %v", l.File, l.Key, err)
		}
		files = append(files, strings.TrimPrefix(l.File, photos+"/"))
	}
	if strings.Join(files, ",") != "2019/b.png,2019/trip/c.png,a.png" {
		t.Fatalf("imported %v", files)
	}
}

func TestFlagsTakeTheirEnvironmentTwin(t *testing.T) {
	t.Setenv("IMGORIGIN_ADMIN_ADDR", "127.0.0.1:9999")
	t.Setenv("IMGORIGIN_ADDR", "127.0.0.1:1111")
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "")
	admin := fs.String("admin-addr", "127.0.0.1:9090", "")
	if err := parseFlags(fs, []string{"--addr", "127.0.0.1:2222"}); err != nil {
		t.Fatal(err)
	}
	if *addr != "127.0.0.1:2222" || *admin != "127.0.0.1:9999" {
		t.Fatalf("addr=%s admin=%s: the command line wins, else the environment", *addr, *admin)
	}
	t.Setenv("IMGORIGIN_COUNT", "many")
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Int("count", 1, "")
	if err := parseFlags(fs, nil); err == nil {
		t.Fatal("a bad environment value was accepted")
	}
}

// The uploader role is for production: without keys it refuses to start.
func TestUploaderRoleRefusesToStartWithoutKeys(t *testing.T) {
	dir := t.TempDir()
	err := serve("uploader", []string{"--data", dir, "--addr", "127.0.0.1:0", "--admin-addr", "", "--log-level", "error"})
	if err == nil || !strings.Contains(err.Error(), "--signing-key-file is required") {
		t.Fatalf("uploader without a signing key: %v", err)
	}
	keyFile := filepath.Join(dir, "signing.pem")
	if err := keysCmd([]string{"generate", "--out", keyFile}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := keysCmd([]string{"generate", "--out", keyFile}, io.Discard); err == nil {
		t.Fatal("keys generate overwrote an existing key file")
	}
	// A hex Ed25519 seed, as earlier versions wrote, still loads as EdDSA.
	seed := filepath.Join(dir, "seed")
	os.WriteFile(seed, []byte(strings.Repeat("ab", 32)), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--signing-key-file", keyFile}, "--service-keys is required"},
		{[]string{"--signing-key-file", seed, "--token-alg", "EdDSA"}, "--service-keys is required"},
		{[]string{"--signing-key-file", seed}, "--token-alg is ES256"},
	} {
		err = serve("uploader", append([]string{"--data", dir, "--addr", "127.0.0.1:0", "--admin-addr", "", "--log-level", "error"}, c.args...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("uploader %v: %v, want %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "signing-key.pem")); err == nil {
		t.Fatal("the uploader role created development keys")
	}
}

// The migration through its commands, on disk stores: plan, work --drain,
// status, report, export.
func TestMigrateCommands(t *testing.T) {
	dir := t.TempDir()
	legacyDir := filepath.Join(dir, "legacy-bucket")
	photo := testimage.Photo(t, 120, 80)
	jpg := testimage.JPEG(t, photo)
	write := func(key string, b []byte) {
		os.MkdirAll(filepath.Dir(filepath.Join(legacyDir, key)), 0o755)
		if err := os.WriteFile(filepath.Join(legacyDir, key), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A plain folder, as a PHP app wrote it: no sidecars, nothing of ours.
	for g := range 3 {
		for p := range 2 {
			key := fmt.Sprintf("legacy/user-%d/p%d", g, p)
			write(key+".jpg", append(append([]byte{}, jpg...), key...))
			for _, s := range []string{"s", "m", "l"} {
				write(key+"_"+s+".jpg", []byte("thumbnail"))
			}
		}
	}
	// The migration deletes migrated thumbnails from its source; it must
	// never add anything there (no store layout, no temporary files).
	sourceFiles := treeOf(t, legacyDir)
	defer func() {
		for p := range treeOf(t, legacyDir) {
			if !sourceFiles[p] {
				t.Errorf("the migration wrote %s into its source", p)
			}
		}
	}()
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		// The target is one named store of a regional fleet.
		args = append(args, "--data", filepath.Join(dir, "data"), "--source", "file://"+legacyDir, "--log-level", "error", "--admin-addr", "127.0.0.1:0",
			"--stores", "here="+filepath.Join(dir, "here")+",far="+filepath.Join(dir, "far"), "--home", "here")
		if err := migrateCmd(args, &out); err != nil {
			t.Fatalf("migrate %v: %v\n%s", args[0], err, out.String())
		}
		return out.String()
	}
	if out := run("plan"); !strings.Contains(out, "groups 3 (0 already done), photos 6, thumbnails 18, enqueued 3") {
		t.Fatalf("plan: %s", out)
	}
	run("work", "--drain")
	if out := run("status"); !strings.Contains(out, "groups:  3 of 3 done") || !strings.Contains(out, "photos:  6 of 6 done") {
		t.Fatalf("status: %s", out)
	}
	if out := run("report"); !strings.Contains(out, "| objects | 24 | 12 | -50.0 % |") {
		t.Fatalf("report: %s", out)
	}
	csvOut := run("export", "--format", "csv")
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	if len(lines) != 7 || lines[0] != "old_key,new_key,group,width,height,old_bytes,new_bytes" || !strings.HasPrefix(lines[1], "legacy/user-0/p0.jpg,") {
		t.Fatalf("export csv:\n%s", csvOut)
	}
	newKey := strings.Split(lines[1], ",")[1]
	if !strings.HasPrefix(newKey, "here-") {
		t.Fatalf("new key %s does not name its home store", newKey)
	}
	if _, err := os.Stat(filepath.Join(dir, "here", newKey)); err != nil {
		t.Fatalf("exported new key %s is not in the target store: %v", newKey, err)
	}
	if jl := run("export", "--format", "jsonl"); strings.Count(jl, "\n") != 6 || !strings.Contains(jl, `"new_key":"`+newKey+`"`) {
		t.Fatalf("export jsonl:\n%s", jl)
	}
	if out := run("plan"); !strings.Contains(out, "enqueued 0") {
		t.Fatalf("re-plan enqueued again: %s", out)
	}
	if out := run("plan", "--originals", "photos/{group}/{photo}.jpg"); !strings.Contains(out, `nothing to migrate: 0 keys under "photos/"`) {
		t.Fatalf("plan with a template that fits nothing gives no hint: %s", out)
	}
}

// treeOf is every path under dir, for comparing before and after.
func treeOf(t *testing.T, dir string) map[string]bool {
	paths := map[string]bool{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		paths[strings.TrimPrefix(p, dir)] = true
		return err
	})
	return paths
}

// Every subcommand's flags, from its -h listing: name -> usage.
func flagListings(t *testing.T) map[string]map[string]string {
	t.Helper()
	var buf bytes.Buffer
	usageOutput = &buf
	defer func() { usageOutput = os.Stderr }()
	commands := map[string]func() error{
		"serve":    func() error { return serve("serve", []string{"-h"}) },
		"resizer":  func() error { return serve("resizer", []string{"-h"}) },
		"uploader": func() error { return serve("uploader", []string{"-h"}) },
		"import":   func() error { return importFiles([]string{"-h"}, io.Discard) },
		"bench":    func() error { return runBench([]string{"-h"}) },
		"migrate":  func() error { return migrateCmd([]string{"work", "-h"}, io.Discard) },
		"keys":     func() error { return keysCmd([]string{"generate", "-h"}, io.Discard) },
		"health":   func() error { return healthCmd([]string{"-h"}, io.Discard) },
	}
	out := map[string]map[string]string{}
	for name, run := range commands {
		buf.Reset()
		if err := run(); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%s -h: %v", name, err)
		}
		flags := map[string]string{}
		lines := strings.Split(buf.String(), "\n")
		for i := 0; i+1 < len(lines); i++ {
			if f, ok := strings.CutPrefix(lines[i], "  --"); ok {
				flags[strings.Fields(f)[0]] = strings.TrimSpace(lines[i+1])
			}
		}
		if len(flags) < 2 {
			t.Fatalf("%s -h listed %d flags:\n%s", name, len(flags), buf.String())
		}
		out[name] = flags
	}
	return out
}

// One environment twin serves every subcommand, so a flag name must mean one
// thing in all of them (IMGORIGIN_QUEUE=sqs://... once broke serve).
func TestFlagsMeanOneThingEverywhere(t *testing.T) {
	seen := map[string]string{} // flag -> "command: usage"
	for cmd, flags := range flagListings(t) {
		for name, usage := range flags {
			if prev, ok := seen[name]; ok && !strings.HasSuffix(prev, ": "+usage) {
				t.Errorf("--%s means two things: %s; %s: %s", name, prev, cmd, usage)
			}
			seen[name] = cmd + ": " + usage
		}
	}
}

func TestFlagMistakesSayWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  [2]string
		want string
	}{
		{[]string{"--deadlin", "3s"}, [2]string{}, "unknown flag --deadlin; did you mean --deadline?"},
		{[]string{"--queue", "3"}, [2]string{}, "did you mean --render-queue?"},
		{[]string{"--deadline", "10"}, [2]string{}, `--deadline: "10" is not a duration: give a number with a unit, such as 10s`},
		{nil, [2]string{"IMGORIGIN_STORE_TIMEOUT", "3"}, `$IMGORIGIN_STORE_TIMEOUT: "3" is not a duration`},
		{[]string{"--max-conns", "many"}, [2]string{}, `--max-conns: "many" is not a whole number`},
	} {
		if c.env[0] != "" {
			t.Setenv(c.env[0], c.env[1])
		}
		err := serve("resizer", append(c.args, "--data", t.TempDir()))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %v: %v, want one line containing %q", c.args, c.env, err, c.want)
		}
		if c.env[0] != "" {
			os.Unsetenv(c.env[0])
		}
	}
}
