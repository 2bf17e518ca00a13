package deploy

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

const testImage = "localhost/imgorigin:test"

// podmanCmd is podman with the project's settings (podman/containers.conf).
func podmanCmd(args ...string) *exec.Cmd {
	conf, _ := filepath.Abs("podman/containers.conf")
	cmd := exec.Command("podman", args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
	return cmd
}

// podman runs podman and returns its output; it must succeed.
func podman(t *testing.T, args ...string) string {
	t.Helper()
	cmd := podmanCmd(args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// deployment reads the first Deployment of a manifest file.
func deployment(t *testing.T, path string) map[string]any {
	for _, doc := range documents(t, path) {
		obj, id, err := decodeStrict(doc)
		if err == nil && id == "apps/v1/Deployment" {
			return obj
		}
	}
	t.Fatalf("no Deployment in %s", path)
	return nil
}

// overlay is the test's stand-in for a kustomize overlay: the image built
// from this tree, host networking on free ports (podman maps no ports on the
// host network, so the probes name the admin port by number), secrets as
// files and values the test made, and a shared directory as the store.
func overlay(d map[string]any, http, admin int, keys, shared string, env map[string]string) {
	spec := d["spec"].(map[string]any)
	spec["replicas"] = 1
	pod := spec["template"].(map[string]any)["spec"].(map[string]any)
	pod["hostNetwork"] = true
	c := pod["containers"].([]any)[0].(map[string]any)
	c["image"] = testImage
	delete(c, "ports")
	for _, probe := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
		if get, ok := field(c, probe, "httpGet").(map[string]any); ok && get["port"] == "admin" {
			get["port"] = admin
		}
	}
	env["IMGORIGIN_ADDR"] = fmt.Sprintf("127.0.0.1:%d", http)
	env["IMGORIGIN_ADMIN_ADDR"] = fmt.Sprintf("127.0.0.1:%d", admin)
	var vars []any
	for _, e := range c["env"].([]any) {
		if field(e, "valueFrom", "secretKeyRef") == nil {
			vars = append(vars, e)
		}
	}
	for k, v := range env {
		vars = append(vars, map[string]any{"name": k, "value": v})
	}
	c["env"] = vars
	hostDir := func(path string) map[string]any { return map[string]any{"path": path, "type": "Directory"} }
	volumes := pod["volumes"].([]any)
	for _, v := range volumes {
		if v := v.(map[string]any); v["secret"] != nil {
			delete(v, "secret")
			v["hostPath"] = hostDir(keys)
		}
	}
	pod["volumes"] = append(volumes, map[string]any{"name": "shared", "hostPath": hostDir(shared)})
	c["volumeMounts"] = append(c["volumeMounts"].([]any), map[string]any{"name": "shared", "mountPath": "/shared"})
}

// field is v's value at the path of object fields, or nil.
func field(v any, path ...string) any {
	for _, k := range path {
		obj, _ := v.(map[string]any)
		v = obj[k]
	}
	return v
}

// The resizer and uploader pod specs of deploy/kubernetes/base, run by
// podman kube play as written (non-root, read-only root, probes on the admin
// port, the ConfigMap as environment) with the test overlay: an upload
// through the uploader pod is resized by the resizer pod.
func TestKubePlay(t *testing.T) {
	if out, err := exec.Command("../scripts/container-image.sh", testImage).CombinedOutput(); err != nil {
		t.Fatalf("scripts/container-image.sh: %v\n%s", err, out)
	}
	dir := t.TempDir()
	keys, shared := filepath.Join(dir, "keys"), filepath.Join(dir, "shared")
	for _, d := range []string{filepath.Join(keys, "keys"), shared} {
		os.MkdirAll(d, 0o755)
	}
	os.Chmod(shared, 0o777) // the pods run as uid 65534
	os.Chmod(dir, 0o755)
	pem := podman(t, "run", "--rm", testImage, "keys", "generate")
	os.WriteFile(filepath.Join(keys, "signing-key.pem"), []byte(pem), 0o644)
	secret := make([]byte, 32)
	rand.Read(secret)
	os.WriteFile(filepath.Join(keys, "keys", "object-key-secret"), []byte(hex.EncodeToString(secret)), 0o644)

	// The ConfigMap as written, but for the store.
	cm, _, err := decodeStrict(documents(t, "kubernetes/base/config.yaml")[0])
	if err != nil {
		t.Fatal(err)
	}
	data := cm["data"].(map[string]any)
	data["IMGORIGIN_STORE"] = "/shared/originals"
	data["IMGORIGIN_DRAIN_DELAY"] = "1s"
	const serviceKey = "kube-play-service-key-0123"
	ports := map[string][2]int{"resizer": {freePort(t), freePort(t)}, "uploader": {freePort(t), freePort(t)}}
	resizer := deployment(t, "kubernetes/base/resizer.yaml")
	overlay(resizer, ports["resizer"][0], ports["resizer"][1], keys, shared, map[string]string{"IMGORIGIN_SIGN_KEYS": hex.EncodeToString(secret)})
	uploader := deployment(t, "kubernetes/base/uploader.yaml")
	overlay(uploader, ports["uploader"][0], ports["uploader"][1], keys, shared, map[string]string{"IMGORIGIN_SERVICE_KEYS": serviceKey})

	var play bytes.Buffer
	for _, obj := range []any{resizer, uploader} {
		b, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		play.WriteString("---\n")
		play.Write(b)
	}
	cmYAML, _ := yaml.Marshal(cm)
	playFile, cmFile := filepath.Join(dir, "play.yaml"), filepath.Join(dir, "configmap.yaml")
	os.WriteFile(playFile, play.Bytes(), 0o644)
	os.WriteFile(cmFile, cmYAML, 0o644)
	t.Cleanup(func() { podmanCmd("kube", "down", playFile).Run() })
	podman(t, "kube", "play", "--configmap", cmFile, playFile)

	for role, p := range ports {
		waitReady(t, role, fmt.Sprintf("http://127.0.0.1:%d/readyz", p[1]))
	}
	up := fmt.Sprintf("http://127.0.0.1:%d", ports["uploader"][0])
	tok := postJSON(t, up+"/v1/upload-tokens", serviceKey, "application/json", []byte(`{"subject":"kube-play"}`))["token"].(string)
	res := postJSON(t, up+"/v1/uploads", tok, "image/png", testPNG(t))
	key, _ := res["key"].(string)
	if len(key) != 32 {
		t.Fatalf("upload through the uploader pod: %v", res)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/%s?w=32", ports["resizer"][0], key))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/webp" || len(body) < 50 {
		t.Fatalf("resize through the resizer pod: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body[:min(len(body), 100)])
	}
	// The pods run as the manifests say: uid 65534, root filesystem read-only.
	for _, c := range []string{"imgorigin-resizer-pod-0-resizer", "imgorigin-uploader-pod-0-uploader"} {
		if uid := strings.TrimSpace(podman(t, "exec", c, "id", "-u")); uid != "65534" {
			t.Errorf("%s runs as uid %s", c, uid)
		}
		if podmanCmd("exec", c, "touch", "/etc/x").Run() == nil {
			t.Errorf("%s: the root filesystem is writable", c)
		}
	}
	t.Logf("upload -> resize through the kube-played pods: key %s, %d bytes at w=32", key, len(body))
}

func waitReady(t *testing.T, role, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %s pod is not ready at %s: %v", role, url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func postJSON(t *testing.T, url, bearer, contentType string, body []byte) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	return v
}

// testPNG is a 400x300 gradient (the uploader stores it as a WebP original).
func testPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			img.Set(x, y, color.RGBA{uint8(x * 255 / 400), uint8(y * 255 / 300), uint8((x ^ y) & 0xff), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
