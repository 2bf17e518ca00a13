package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/migrate"
	"github.com/imgorigin/imgorigin/resizer"
	"github.com/imgorigin/imgorigin/role"
	"github.com/imgorigin/imgorigin/server"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
	"github.com/imgorigin/imgorigin/storage/regions"
)

// docs/metrics.md lists every series a process can export, with its labels,
// and nothing else: the series are read from what the embedded default
// (both roles), a fleet's store router and a migration worker register,
// as `serve` and `migrate work` assemble them.
func TestMetricsPageListsEverySeries(t *testing.T) {
	dir := t.TempDir()
	rcfg := resizer.DefaultConfig()
	uploads := role.DefaultUploads()
	r, err := role.New(context.Background(), role.Config{
		Server:  server.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"},
		Stores:  role.Stores{Data: filepath.Join(dir, "data"), Store: filepath.Join(dir, "originals")},
		Resizer: &rcfg, Uploads: &uploads, Dev: true,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	registerBuildInfo(r.Server.Registry)
	others := server.NewRegistry()
	migrate.NewMetrics(others)
	st, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := regions.NewRouter(regions.Config{Stores: map[string]storage.Store{"here": st}, Legacy: "here"}, others); err != nil {
		t.Fatal(err)
	}
	exported := map[string]string{}
	for _, s := range slices.Concat(r.Server.Registry.Series(), others.Series()) {
		if !strings.HasPrefix(s.Name, "go_") && !strings.HasPrefix(s.Name, "process_") {
			exported[s.Name] = strings.Join(s.Labels, ",")
		}
	}
	page, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(imgorigin_[a-z_]+)` \\| [a-z]+ \\| ([^|]*) \\|")
	listed := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(page), -1) {
		var labels []string
		for _, l := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(m[2], -1) {
			labels = append(labels, l[1])
		}
		slices.Sort(labels)
		listed[m[1]] = strings.Join(labels, ",")
	}
	for name, labels := range exported {
		if got, ok := listed[name]; !ok {
			t.Errorf("%s {%s} is exported but docs/metrics.md does not list it", name, labels)
		} else if got != labels {
			t.Errorf("%s: docs/metrics.md gives the labels {%s}, the code {%s}", name, got, labels)
		}
	}
	for name := range listed {
		if _, ok := exported[name]; !ok {
			t.Errorf("docs/metrics.md lists %s, which no process exports", name)
		}
	}
	if len(exported) < 30 {
		t.Errorf("only %d series read from the registries", len(exported))
	}
}
