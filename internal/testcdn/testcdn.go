// Package testcdn runs nginx as the CDN in front of a server under test,
// configured as docs/cloudfront.md asks of CloudFront.
package testcdn

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/internal/testwait"
)

// nginxConf is a CDN in front of the resizer, configured as docs/cloudfront.md
// asks of CloudFront: Accept collapsed to the answer the resizer would give,
// and that collapsed value in the cache key; Client Hints in the key only
// for URLs whose ch asks for them (CloudFront's function also rounds them
// to the ladder; nginx passes them as they come).
const nginxConf = `
daemon off;
master_process off;
worker_processes 1;
error_log {{dir}}/error.log warn;
pid {{dir}}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path {{dir}}/body;
  proxy_temp_path {{dir}}/proxy;
  fastcgi_temp_path {{dir}}/fastcgi;
  uwsgi_temp_path {{dir}}/uwsgi;
  scgi_temp_path {{dir}}/scgi;
  proxy_cache_path {{dir}}/cache levels=1:2 keys_zone=img:1m max_size=100m inactive=1h use_temp_path=off;
  map $http_accept $img_accept {
    ~image/avif image/avif;
    ~image/webp image/webp;
    default     image/jpeg;
  }
  map $arg_ch $img_hints {
    ""      "";
    default "$http_sec_ch_width|$http_sec_ch_dpr|$http_save_data";
  }
  server {
    listen 127.0.0.1:{{port}};
    location / {
      proxy_pass http://{{upstream}};
      proxy_set_header Accept $img_accept;
      proxy_cache img;
      proxy_cache_key $request_uri|$img_accept|$img_hints;
      proxy_cache_revalidate on;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`

// StartNginx runs nginx (from IMGORIGIN_TEST_NGINX, set by `make test`) in
// front of upstream and returns its base URL; it is stopped when the test ends.
func StartNginx(t *testing.T, upstream string) string {
	t.Helper()
	bin := os.Getenv("IMGORIGIN_TEST_NGINX")
	if bin == "" {
		t.Fatal("IMGORIGIN_TEST_NGINX is not set: run the tests with `make test`, which installs nginx")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", fmt.Sprint(port), "{{upstream}}", upstream).Replace(nginxConf)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx's error.log:\n%s", log)
		}
	})
	testwait.For(t, "nginx to listen", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return base
}
