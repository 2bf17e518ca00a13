package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

const chart = "helm/imgorigin"

// The Helm chart passes helm lint, renders documents that pass the same
// schema check as the kustomize manifests, and renders what they say:
// with its defaults the base's documents (the ConfigMap's data, every other
// document's spec), with KEDA the keda overlay's ScaledObject and no
// resizer HPA, with monitoring the monitoring overlay's documents, and a
// region's stores in the ConfigMap. helm is helm.sh/helm/v4, a Go tool of
// tools/helm/go.mod, built by make test.
func TestHelmChart(t *testing.T) {
	helm := os.Getenv("IMGORIGIN_TEST_HELM")
	if helm == "" {
		t.Fatal("IMGORIGIN_TEST_HELM is not set: run the tests with `make test`, which builds helm")
	}
	all := []string{"--set", "keda.enabled=true,monitoring.podMonitor=true,monitoring.alerts=true"}
	for _, args := range [][]string{nil, all} {
		if out, err := exec.Command(helm, append([]string{"lint", "--strict", chart}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("helm lint %v: %v\n%s", args, err, out)
		}
	}

	base := map[string]map[string]any{}
	for _, file := range []string{"config", "resizer", "uploader", "networkpolicy"} {
		for _, obj := range decodedFile(t, "kubernetes/base/"+file+".yaml") {
			base[id(obj)] = obj
		}
	}
	delete(base, "Secret/imgorigin-keys") // created out of band; the chart names it (keysSecret)
	// kustomize's images transformer, as base/kustomization.yaml sets it.
	for _, name := range []string{"Deployment/imgorigin-resizer", "Deployment/imgorigin-uploader"} {
		containers := base[name]["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
		containers[0].(map[string]any)["image"] = "ghcr.io/imgorigin/imgorigin:latest"
	}
	rendered := render(t, helm)
	sameDocuments(t, "defaults", base, rendered)

	withAll := render(t, helm, all...)
	if _, ok := withAll["HorizontalPodAutoscaler/imgorigin-resizer"]; ok {
		t.Error("with KEDA: the resizer still has an HPA, which would fight KEDA's")
	}
	overlays := map[string]map[string]any{}
	for _, file := range []string{"keda/resizer-scaledobject", "monitoring/podmonitor", "monitoring/alerts"} {
		for _, obj := range decodedFile(t, "kubernetes/"+file+".yaml") {
			overlays[id(obj)] = obj
		}
	}
	sameDocuments(t, "keda and monitoring", overlays, withAll)

	region := render(t, helm, "--set", "regions.stores=tokyo=s3://a\\,paris=s3://b,regions.home=tokyo")
	data := region["ConfigMap/imgorigin"]["data"].(map[string]any)
	if data["IMGORIGIN_STORES"] != "tokyo=s3://a,paris=s3://b" || data["IMGORIGIN_HOME"] != "tokyo" || data["IMGORIGIN_STORE"] != nil {
		t.Errorf("a region's release: ConfigMap %v", data)
	}
}

// render runs helm template with args and decodes every document it
// writes, each checked against its kind's schema, by kind/name.
func render(t *testing.T, helm string, args ...string) map[string]map[string]any {
	t.Helper()
	out, err := exec.Command(helm, append([]string{"template", "imgorigin", chart}, args...)...).Output()
	if err != nil {
		t.Fatalf("helm template %v: %v", args, err)
	}
	docs := map[string]map[string]any{}
	for i, doc := range splitDocuments(out) {
		obj, kind, err := decodeStrict(doc)
		if err != nil {
			t.Errorf("helm template %v, document %d (%s): %v", args, i+1, kind, err)
			continue
		}
		docs[id(obj)] = obj
	}
	return docs
}

func decodedFile(t *testing.T, path string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, doc := range documents(t, path) {
		obj, _, err := decodeStrict(doc)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		objs = append(objs, obj)
	}
	return objs
}

func id(obj map[string]any) string {
	return fmt.Sprint(obj["kind"], "/", obj["metadata"].(map[string]any)["name"])
}

// sameDocuments checks that every document of want is in got with the same
// content: a ConfigMap's data, any other document's spec.
func sameDocuments(t *testing.T, what string, want, got map[string]map[string]any) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: the chart renders no %s", what, name)
			continue
		}
		field := "spec"
		if strings.HasPrefix(name, "ConfigMap/") {
			field = "data"
		}
		if !reflect.DeepEqual(w[field], g[field]) {
			t.Errorf("%s: %s's %s differs from kustomize's:\nchart:     %v\nkustomize: %v", what, name, field, g[field], w[field])
		}
	}
}
