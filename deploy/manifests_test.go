// Package deploy checks the Kubernetes manifests in deploy/kubernetes: every
// Kubernetes document decodes into its API type and every KEDA document
// conforms to KEDA's own CRD schema, unknown fields refused; and the resizer
// and uploader pod specs run under podman kube play. It is a module of its
// own so that the API types' dependencies stay out of imgorigin's.
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

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// types maps apiVersion/kind to the Go type a document must decode into.
var types = map[string]func() any{
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
}

// kedaCRDs are the CustomResourceDefinitions KEDA installs, by
// apiVersion/kind, from the KEDA release the manifests are written for.
// KEDA's Go types would check the same fields, but compiling them (with
// controller-runtime behind them) took 81 s of a fresh make test; the
// schemas are what the API server itself checks.
const kedaModule = "github.com/kedacore/keda/v2@v2.16.1"

var kedaCRDs = map[string]string{
	"keda.sh/v1alpha1/ScaledObject": "config/crd/bases/keda.sh_scaledobjects.yaml",
	"keda.sh/v1alpha1/ScaledJob":    "config/crd/bases/keda.sh_scaledjobs.yaml",
}

var kedaSchemas = sync.OnceValues(func() (map[string]map[string]any, error) {
	// The module holds the CRDs: the Go module cache has it, or fetches it
	// through the module proxy, outside this module's build.
	cmd := exec.Command("go", "mod", "download", "-json", kedaModule)
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod download %s: %v", kedaModule, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, err
	}
	schemas := map[string]map[string]any{}
	for id, file := range kedaCRDs {
		b, err := os.ReadFile(filepath.Join(mod.Dir, file))
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
				schemas[id] = v.Schema.OpenAPIV3Schema
			}
		}
		if schemas[id] == nil {
			return nil, fmt.Errorf("%s has no schema for %s", file, id)
		}
	}
	return schemas, nil
})

// conform lists where v departs from s, an OpenAPI v3 schema as CRDs carry
// it: fields it does not declare, values of another type, required fields
// missing, values outside an enum. An object schema that declares no fields
// (metadata, free-form maps) takes any.
func conform(path string, v any, s map[string]any) []string {
	if v == nil {
		return nil
	}
	var errs []string
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
				errs = append(errs, conform(path+"."+k, fv, ps)...)
			case extra != nil:
				errs = append(errs, conform(path+"."+k, fv, extra)...)
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
			errs = append(errs, conform(fmt.Sprintf("%s[%d]", path, i), e, items)...)
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
	var docs [][]byte
	for _, d := range bytes.Split(b, []byte("\n---\n")) {
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

// decodeStrict decodes one document into its API type, refusing fields the
// type does not have.
func decodeStrict(doc []byte) (any, string, error) {
	var meta struct{ APIVersion, Kind string }
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return nil, "", err
	}
	id := meta.APIVersion + "/" + meta.Kind
	if _, ok := kedaCRDs[id]; ok {
		obj, err := conformToCRD(id, doc)
		return obj, id, err
	}
	newObj, ok := types[id]
	if !ok {
		return nil, id, fmt.Errorf("no API type known for %s", id)
	}
	obj := newObj()
	return obj, id, yaml.UnmarshalStrict(doc, obj)
}

// conformToCRD checks a KEDA document against its CRD's schema, and its
// metadata against ObjectMeta, which the API server checks itself.
func conformToCRD(id string, doc []byte) (map[string]any, error) {
	schemas, err := kedaSchemas()
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := yaml.Unmarshal(doc, &obj); err != nil {
		return nil, err
	}
	metadata, _ := json.Marshal(obj["metadata"])
	if err := yaml.UnmarshalStrict(metadata, &metav1.ObjectMeta{}); err != nil {
		return obj, fmt.Errorf("metadata: %v", err)
	}
	if errs := conform(id, obj, schemas[id]); len(errs) > 0 {
		return obj, errors.New(strings.Join(errs, "; "))
	}
	return obj, nil
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
	for _, id := range slices.Concat(slices.Collect(maps.Keys(types)), slices.Collect(maps.Keys(kedaCRDs))) {
		if kinds[id] == 0 {
			t.Errorf("no %s among the manifests", id)
		}
	}
	t.Logf("parsed strictly: %v", kinds)
}

// A document with a misspelt field is refused: the check is real.
func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	doc := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 2\n")
	if _, _, err := decodeStrict(doc); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Fatalf("misspelt field: %v", err)
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
}
