package s3test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	s3store "github.com/imgorigin/imgorigin/storage/s3"
)

// Server is an S3-compatible server (versitygw) of a test's own, on
// 127.0.0.1, that the test can kill and start again on the same port and
// data: a region's store that goes down and comes back.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	t        testing.TB
	bin, dir string
	port     int
	cmd      *exec.Cmd
}

// StartServer starts versitygw from IMGORIGIN_TEST_VERSITYGW (which
// `make test` sets) with the test credentials; it is stopped when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("IMGORIGIN_TEST_VERSITYGW")
	if bin == "" {
		t.Fatal("IMGORIGIN_TEST_VERSITYGW is not set: run the tests with `make test`, which installs versitygw")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), t: t, bin: bin, dir: t.TempDir(), port: port}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// Start (re)starts the server and waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", fmt.Sprintf("127.0.0.1:%d", s.port),
		"--access", os.Getenv("AWS_ACCESS_KEY_ID"), "--secret", os.Getenv("AWS_SECRET_ACCESS_KEY"), "posix", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port)); err == nil {
			c.Close()
			return
		}
	}
	s.t.Fatalf("versitygw did not start on port %d", s.port)
}

// Kill stops the server at once, as a crash or a lost region would.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// Bucket creates a bucket on the server and returns a store on it.
func (s *Server) Bucket(name string) *s3store.Store {
	s.t.Helper()
	return createBucket(s.t, s.Endpoint, name, 1)
}
