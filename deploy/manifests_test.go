// Package deploy checks the Kubernetes manifests in deploy/kubernetes: every
// document conforms to the OpenAPI schema the API server checks it against
// (Kubernetes' own for its kinds, KEDA's and the Prometheus Operator's CRDs
// for theirs), unknown fields refused; the alerts pass promtool's tests;
// and the resizer and uploader pod specs run under podman kube play.
// It is a module of its own so that its tests' needs stay out of imgorigin's.
package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

// The schemas come from the releases the manifests are written for, read
// from their Go modules (fetched through the module proxy outside this
// module's build). Their Go types would check the same fields, but
// compiling them took about a minute of CPU in a fresh make test
// (KEDA's, with controller-runtime behind them, 81 s).
const (
	kubernetesModule = "k8s.io/kubernetes@v1.31.3"
	kedaModule       = "github.com/kedacore/keda/v2@v2.16.1"
	operatorModule   = "github.com/prometheus-operator/prometheus-operator@v0.88.0"
)

// kinds maps each apiVersion/kind the manifests use to the file of
// kubernetesModule's OpenAPI v3 spec that defines it.
var kinds = map[string]string{
	"apps/v1/Deployment":                     "apis__apps__v1_openapi.json",
	"v1/Service":                             "api__v1_openapi.json",
	"v1/ConfigMap":                           "api__v1_openapi.json",
	"v1/Secret":                              "api__v1_openapi.json",
	"policy/v1/PodDisruptionBudget":          "apis__policy__v1_openapi.json",
	"autoscaling/v2/HorizontalPodAutoscaler": "apis__autoscaling__v2_openapi.json",
	"networking.k8s.io/v1/NetworkPolicy":     "apis__networking.k8s.io__v1_openapi.json",
}

// crds are the CustomResourceDefinitions the manifests use, by apiVersion/kind:
// the module that defines each (KEDA's, the Prometheus Operator's) and its file.
var crds = map[string][2]string{
	"keda.sh/v1alpha1/ScaledObject":           {kedaModule, "config/crd/bases/keda.sh_scaledobjects.yaml"},
	"keda.sh/v1alpha1/ScaledJob":              {kedaModule, "config/crd/bases/keda.sh_scaledjobs.yaml"},
	"monitoring.coreos.com/v1/PodMonitor":     {operatorModule, "example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml"},
	"monitoring.coreos.com/v1/PrometheusRule": {operatorModule, "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"},
}

const objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

// schemas holds a schema for each apiVersion/kind the manifests use, and the
// definitions their $refs name (ObjectMeta among them).
type schemas struct {
	kinds map[string]map[string]any
	defs  map[string]map[string]any
}

var loadSchemas = sync.OnceValues(func() (*schemas, error) {
	out := &schemas{kinds: map[string]map[string]any{}, defs: map[string]map[string]any{}}
	k8s, err := moduleDir(kubernetesModule)
	if err != nil {
		return nil, err
	}
	for _, file := range slices.Compact(slices.Sorted(maps.Values(kinds))) {
		b, err := os.ReadFile(filepath.Join(k8s, "api/openapi-spec/v3", file))
		if err != nil {
			return nil, err
		}
		var spec struct {
			Components struct{ Schemas map[string]map[string]any }
		}
		if err := json.Unmarshal(b, &spec); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		for name, def := range spec.Components.Schemas {
			out.defs[name] = def
			gvks, _ := def["x-kubernetes-group-version-kind"].([]any)
			for _, g := range gvks {
				g := g.(map[string]any)
				id := strings.TrimPrefix(g["group"].(string)+"/"+g["version"].(string), "/") + "/" + g["kind"].(string)
				if kinds[id] == file {
					out.kinds[id] = def
				}
			}
		}
	}
	for id, crd := range crds {
		dir, err := moduleDir(crd[0])
		if err != nil {
			return nil, err
		}
		file := crd[1]
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		var crd struct {
			Spec struct {
				Versions []struct {
					Name   string
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					}
				}
			}
		}
		if err := yaml.Unmarshal(b, &crd); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		parts := strings.Split(id, "/") // group, version, kind
		for _, v := range crd.Spec.Versions {
			if v.Name == parts[1] {
				out.kinds[id] = v.Schema.OpenAPIV3Schema
			}
		}
	}
	for _, id := range slices.Concat(slices.Collect(maps.Keys(kinds)), slices.Collect(maps.Keys(crds))) {
		if out.kinds[id] == nil {
			return nil, fmt.Errorf("no schema for %s", id)
		}
	}
	return out, nil
})

// moduleDir is where the Go module cache holds module@version, fetched
// through the module proxy when it lacks it.
func moduleDir(module string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %v", module, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", err
	}
	return mod.Dir, nil
}

// conform lists where v departs from s, an OpenAPI v3 schema as the API
// server reads it: fields it does not declare, values of another type,
// required fields missing, values outside an enum. An object schema that
// declares no fields (a CRD's metadata, free-form maps) takes any. $ref names
// one of sc.defs; allOf must all hold, oneOf one of them (int-or-string,
// quantities).
func (sc *schemas) conform(path string, v any, s map[string]any) []string {
	if v == nil {
		return nil
	}
	if ref, ok := s["$ref"].(string); ok {
		def, ok := sc.defs[strings.TrimPrefix(ref, "#/components/schemas/")]
		if !ok {
			return []string{fmt.Sprintf("%s: the schema names %s, which the spec lacks", path, ref)}
		}
		return sc.conform(path, v, def)
	}
	if one, ok := s["oneOf"].([]any); ok {
		for _, alt := range one {
			if len(sc.conform(path, v, alt.(map[string]any))) == 0 {
				return nil
			}
		}
		return []string{fmt.Sprintf("%s: %v is none of %v", path, v, one)}
	}
	var errs []string
	allOf, _ := s["allOf"].([]any)
	for _, part := range allOf {
		errs = append(errs, sc.conform(path, v, part.(map[string]any))...)
	}
	wrong := func(want string) []string { return []string{fmt.Sprintf("%s: %v is not %s", path, v, want)} }
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", path, v, enum))
	}
	if s["x-kubernetes-int-or-string"] == true {
		switch v.(type) {
		case float64, string:
			return errs
		}
		return wrong("an integer or a string")
	}
	switch s["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return wrong("an object")
		}
		props, _ := s["properties"].(map[string]any)
		extra, _ := s["additionalProperties"].(map[string]any)
		required, _ := s["required"].([]any)
		for _, r := range required {
			if _, ok := obj[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: %s is required", path, r))
			}
		}
		for k, fv := range obj {
			switch ps, declared := props[k].(map[string]any); {
			case declared:
				errs = append(errs, sc.conform(path+"."+k, fv, ps)...)
			case extra != nil:
				errs = append(errs, sc.conform(path+"."+k, fv, extra)...)
			case props != nil && s["x-kubernetes-preserve-unknown-fields"] != true:
				errs = append(errs, fmt.Sprintf("%s: unknown field %q", path, k))
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return wrong("an array")
		}
		items, _ := s["items"].(map[string]any)
		for i, e := range arr {
			errs = append(errs, sc.conform(fmt.Sprintf("%s[%d]", path, i), e, items)...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			return wrong("a string")
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			return wrong("an integer")
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return wrong("a number")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return wrong("a boolean")
		}
	}
	return errs
}

// kustomization is the part of kustomization.yaml the test follows.
type kustomization struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Labels     []json.RawMessage `json:"labels"`
	Resources  []string          `json:"resources"`
	Images     []json.RawMessage `json:"images"`
	Patches    []json.RawMessage `json:"patches"`
}

// documents splits a YAML file into its documents.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return splitDocuments(b)
}

// splitDocuments splits YAML into its documents, leaving out empty ones.
func splitDocuments(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), b...), []byte("\n---\n")) {
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(append(out, line...), '\n')
		}
	}
	return out
}

// decodeStrict decodes one document and checks it against its kind's
// schema; a custom resource's metadata also against ObjectMeta, which the
// API server checks itself.
func decodeStrict(doc []byte) (map[string]any, string, error) {
	sc, err := loadSchemas()
	if err != nil {
		return nil, "", err
	}
	var obj map[string]any
	if err := yaml.Unmarshal(doc, &obj); err != nil {
		return nil, "", err
	}
	id := fmt.Sprint(obj["apiVersion"], "/", obj["kind"])
	schema, ok := sc.kinds[id]
	if !ok {
		return obj, id, fmt.Errorf("no schema known for %s", id)
	}
	errs := sc.conform(id, obj, schema)
	if _, ok := crds[id]; ok {
		errs = append(errs, sc.conform(id+".metadata", obj["metadata"], sc.defs[objectMeta])...)
	}
	if len(errs) > 0 {
		return obj, id, errors.New(strings.Join(errs, "; "))
	}
	return obj, id, nil
}

// Every manifest, base and overlays, parses strictly, and each
// kustomization lists files that exist.
func TestManifestsParseStrictly(t *testing.T) {
	kinds := map[string]int{}
	err := filepath.WalkDir("kubernetes", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		if d.Name() == "kustomization.yaml" {
			var k kustomization
			if err := yaml.UnmarshalStrict(documents(t, path)[0], &k); err != nil {
				t.Errorf("%s: %v", path, err)
			}
			for _, r := range k.Resources {
				if _, err := os.Stat(filepath.Join(filepath.Dir(path), r)); err != nil {
					t.Errorf("%s lists %s: %v", path, r, err)
				}
			}
			return nil
		}
		for i, doc := range documents(t, path) {
			_, id, err := decodeStrict(doc)
			if err != nil {
				t.Errorf("%s, document %d (%s): %v", path, i+1, id, err)
			}
			kinds[id]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range slices.Concat(slices.Collect(maps.Keys(kinds)), slices.Collect(maps.Keys(crds))) {
		if kinds[id] == 0 {
			t.Errorf("no %s among the manifests", id)
		}
	}
	t.Logf("parsed strictly: %v", kinds)
}

// Documents that depart from their schema are refused: the check is real.
func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	// Kubernetes' schemas: a misspelt field, a count given as a string, a
	// port that is neither a number nor a name.
	for _, c := range []struct{ spec, want string }{
		{"  replica: 2\n", `unknown field "replica"`},
		{"  replicas: \"2\"\n", "is not an integer"},
		{"  template:\n    spec:\n      containers:\n      - name: x\n        readinessProbe:\n          httpGet:\n            port: [80]\n", "is none of"},
	} {
		doc := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n" + c.spec)
		if _, _, err := decodeStrict(doc); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Deployment with %q: %v, want %s", c.spec, err, c.want)
		}
	}
	// KEDA's schemas: a misspelt field deep in the pod template, a count
	// given as a string, a metadata field that ObjectMeta lacks.
	job := documents(t, "kubernetes/keda/migrate-scaledjob.yaml")[0]
	if _, _, err := decodeStrict(job); err != nil {
		t.Fatalf("the ScaledJob as written: %v", err)
	}
	for _, c := range []struct{ from, to, want string }{
		{"readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", `unknown field "readOnlyRootFileSystem"`},
		{"maxReplicaCount: 20", `maxReplicaCount: "20"`, "is not an integer"},
		{"name: imgorigin-migrate\nspec:", "name: imgorigin-migrate\n  label: x\nspec:", `unknown field "label"`},
	} {
		bad := bytes.Replace(job, []byte(c.from), []byte(c.to), 1)
		if bytes.Equal(bad, job) {
			t.Fatalf("%q is not in the ScaledJob", c.from)
		}
		if _, _, err := decodeStrict(bad); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ScaledJob with %s: %v, want %s", c.to, err, c.want)
		}
	}
	// The Prometheus Operator's: a rule's misspelt field, a label copied
	// from the pod given as a map instead of a list.
	for _, c := range []struct{ path, from, to, want string }{
		{"kubernetes/monitoring/alerts.yaml", "annotations:", "annotation:", `unknown field "annotation"`},
		{"kubernetes/monitoring/podmonitor.yaml", "podTargetLabels:\n    - app.kubernetes.io/name", "podTargetLabels:\n    name: app.kubernetes.io/name", "is not an array"},
	} {
		doc := documents(t, c.path)[0]
		if _, _, err := decodeStrict(doc); err != nil {
			t.Fatalf("%s as written: %v", c.path, err)
		}
		bad := bytes.Replace(doc, []byte(c.from), []byte(c.to), 1)
		if bytes.Equal(bad, doc) {
			t.Fatalf("%q is not in %s", c.from, c.path)
		}
		if _, _, err := decodeStrict(bad); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s with %q: %v, want %s", c.path, c.to, err, c.want)
		}
	}
}
