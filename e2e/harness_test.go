package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testnode"
)

func TestMain(m *testing.M) { testimage.Main(m) }

const serviceKey = "e2e-service-key-0123456789"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/imgorigin once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "imgorigin-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "imgorigin")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/imgorigin").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is a running `imgorigin serve` on 127.0.0.1.
type server struct {
	URL   string // public listener, http://127.0.0.1:PORT
	Admin string // admin listener, 127.0.0.1:PORT
	Pid   int
	Data  string // its --data directory; originals under Data/originals

	mu  sync.Mutex
	log bytes.Buffer // what the server logged
}

// logs is what the server has logged so far.
func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// serve starts `imgorigin serve` with its embedded defaults (disk store under
// a temporary --data) plus args, and stops it when the test ends.
func serve(t *testing.T, args ...string) *server {
	t.Helper()
	data := t.TempDir()
	cmd := exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--data", data, "--service-keys", serviceKey, "--log-level", "info"}, args...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	// The server logs where it listens.
	addr := make(chan [2]string, 1)
	s := &server{Pid: cmd.Process.Pid, Data: data}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			s.mu.Lock()
			s.log.Write(append(line, '\n'))
			s.mu.Unlock()
			var rec struct {
				Msg       string `json:"msg"`
				Addr      string `json:"addr"`
				AdminAddr string `json:"admin_addr"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" {
				addr <- [2]string{rec.Addr, rec.AdminAddr}
			}
		}
	}()
	select {
	case a := <-addr:
		s.URL, s.Admin = "http://"+a[0], a[1]
		return s
	case <-time.After(30 * time.Second):
		t.Fatalf("imgorigin serve did not start:\n%s", s.logs())
	}
	return nil
}

// upload stores a photo through the uploader as an app would: a backend gets
// an upload token with its service key, the client posts the photo.
func (s *server) upload(t *testing.T, photo []byte) (key string, width int) {
	t.Helper()
	res := s.uploadResult(t, photo)
	return res.Key, res.Width
}

// uploaded is the uploader's answer to an upload.
type uploaded struct {
	Key         string `json:"key"`
	Width       int    `json:"width"`
	Home        string `json:"home"`
	ResultToken string `json:"result_token"`
}

func (s *server) uploadResult(t *testing.T, photo []byte) uploaded {
	t.Helper()
	tok := s.uploadToken(t)
	req, _ := http.NewRequest("POST", s.URL+"/v1/uploads", bytes.NewReader(photo))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "image/jpeg")
	var res uploaded
	if code := doJSON(t, req, &res); code != 201 {
		t.Fatalf("upload: %d", code)
	}
	return res
}

func (s *server) uploadToken(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/v1/upload-tokens", strings.NewReader(`{"subject":"e2e","max_uploads":10}`))
	req.Header.Set("Authorization", "Bearer "+serviceKey)
	var res struct{ Token string }
	if code := doJSON(t, req, &res); code != 201 {
		t.Fatalf("upload token: %d", code)
	}
	return res.Token
}

// send sends req and returns the answer, its body read and closed.
func send(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func doJSON(t *testing.T, req *http.Request, v any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v in %q", req.Method, req.URL, err, b)
		}
	} else {
		t.Logf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// fetchWidth GETs url and returns the status and the image's width.
func fetchWidth(url string) (status, width int, hdr http.Header, err error) {
	a, err := httpGet(url)
	if err != nil || a.status != 200 {
		return a.status, 0, a.header, fmt.Errorf("%v %s", err, bytes.TrimSpace(a.body))
	}
	h, err := imaging.Probe(a.body)
	return a.status, h.Width, a.header, err
}

// node runs a script from testdata with the pinned packages `make test`
// installs and returns its standard output.
func node(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	return run(t, "node", append([]string{testnode.Script(t, filepath.Join("testdata", script))}, args...)...)
}

func run(t *testing.T, prog string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", prog, args, err, stderr.String())
	}
	return out
}

// answer is a whole HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func httpGet(url string) (answer, error) {
	resp, err := http.Get(url)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}, err
}
