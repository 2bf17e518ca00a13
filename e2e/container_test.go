package e2e

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
	"github.com/imgorigin/imgorigin/storage/s3/s3test"
	"github.com/imgorigin/imgorigin/storage/storagetest"
)

var (
	imageOnce sync.Once
	imageErr  error
)

const testImage = "localhost/imgorigin:test"

// containerImage builds docker/Dockerfile with podman once per test run
// (scripts/container-image.sh: local stand-ins for the base images, then
// the unchanged Dockerfile).
func containerImage(t *testing.T) string {
	t.Helper()
	imageOnce.Do(func() {
		start := time.Now()
		out, err := exec.Command("../scripts/container-image.sh", testImage).CombinedOutput()
		if err != nil {
			imageErr = fmt.Errorf("scripts/container-image.sh: %v\n%s", err, out)
			return
		}
		t.Logf("image built in %v", time.Since(start).Round(time.Second))
	})
	if imageErr != nil {
		t.Fatal(imageErr)
	}
	return testImage
}

// podman runs podman with the project's settings (deploy/podman/containers.conf).
func podman(args ...string) (string, error) {
	conf, _ := filepath.Abs("../deploy/podman/containers.conf")
	cmd := exec.Command("podman", args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func mustPodman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := podman(args...)
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// freePorts returns n free ports on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// The image as an operator runs it: as its non-root user, root filesystem
// read-only, a fresh volume on /data, originals in S3 (versitygw on the
// host). Upload -> resize works with metadata stripped, /data is writable,
// the health command answers, and SIGTERM drains to exit 0.
func TestContainerImage(t *testing.T) {
	image := containerImage(t)
	if out := mustPodman(t, "image", "inspect", "--format", "{{.Size}}", image); out != "" {
		t.Logf("image size: %s bytes", strings.TrimSpace(out))
	}
	bucket := s3test.NewBucket(t)
	ports := freePorts(t, 2)
	name := fmt.Sprintf("imgorigin-test-%d", ports[0])
	mustPodman(t, "volume", "create", name)
	t.Cleanup(func() {
		podman("rm", "-f", name)
		podman("volume", "rm", "-f", name)
	})
	mustPodman(t, "run", "-d", "--name", name, "--network", "host", "--read-only", "-v", name+":/data", "--memory", "1g",
		"-e", "AWS_ACCESS_KEY_ID", "-e", "AWS_SECRET_ACCESS_KEY", "-e", "AWS_REGION",
		"-e", fmt.Sprintf("IMGORIGIN_ADDR=127.0.0.1:%d", ports[0]), "-e", fmt.Sprintf("IMGORIGIN_ADMIN_ADDR=127.0.0.1:%d", ports[1]),
		"-e", "IMGORIGIN_SERVICE_KEYS="+serviceKey,
		image, "serve", "--store", "s3://"+bucket+"?path_style=true&endpoint="+storagetest.S3Endpoint(t), "--drain-delay", "1s")

	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := podman("logs", name)
			t.Logf("the container's log:\n%s", logs)
		}
	})
	testwait.Within(t, 30*time.Second, "imgorigin health in the container", func() bool {
		_, err := podman("exec", name, "imgorigin", "health")
		return err == nil
	})
	if _, err := podman("healthcheck", "run", name); err != nil {
		t.Errorf("the image's HEALTHCHECK fails: %v", err)
	}
	if uid := strings.TrimSpace(mustPodman(t, "exec", name, "id", "-u")); uid != "65534" {
		t.Errorf("runs as uid %s, want 65534", uid)
	}
	if _, err := podman("exec", name, "touch", "/usr/local/bin/x"); err == nil {
		t.Error("the root filesystem is writable")
	}
	if _, err := podman("exec", name, "test", "-s", "/data/keys/signing-key.pem"); err != nil {
		t.Error("the fresh /data volume did not take the development keys")
	}

	// Go's soft memory limit comes from the container's, leaving room for
	// libvips' C memory (the image sets no GOMEMLIMIT).
	resp, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[1]))
	var limit float64
	if m := regexp.MustCompile(`(?m)^go_gc_gomemlimit_bytes (\S+)$`).FindSubmatch(resp.body); m != nil {
		limit, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if want := 0.7 * (1 << 30); err != nil || math.Abs(limit-want) > 1<<20 {
		t.Errorf("with --memory 1g, GOMEMLIMIT is %.0f (%v), want %.0f", limit, err, want)
	}

	s := &server{URL: fmt.Sprintf("http://127.0.0.1:%d", ports[0])}
	photo := testimage.Photo(t, 1600, 1200)
	key, w := s.upload(t, testimage.WithPrivateMetadata(t, photo))
	photo.Close()
	if w != 1600 {
		t.Errorf("stored original %d px wide", w)
	}
	for _, fm := range []string{"jpg", "webp"} {
		resp, err := httpGet(s.URL + "/" + key + "?w=320&fm=" + fm)
		if err != nil || resp.status != 200 {
			t.Fatalf("resize through the container: %v %d", err, resp.status)
		}
		for _, secret := range []string{"SecretCam", "Jane Secret", "Exif"} {
			if bytes.Contains(resp.body, []byte(secret)) {
				t.Errorf("fm=%s output carries %q", fm, secret)
			}
		}
	}

	start := time.Now()
	mustPodman(t, "stop", "-t", "30", name)
	code := strings.TrimSpace(mustPodman(t, "inspect", "--format", "{{.State.ExitCode}}", name))
	logs, _ := podman("logs", name)
	if code != "0" || !strings.Contains(logs, `"msg":"drained"`) {
		t.Errorf("after SIGTERM: exit %s, logs:\n%s", code, logs)
	}
	t.Logf("SIGTERM to exit: %v", time.Since(start).Round(100*time.Millisecond))
}
