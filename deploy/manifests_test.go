// Package deploy checks the Kubernetes manifests in deploy/kubernetes: every
// document decodes into its Kubernetes or KEDA API type with unknown fields
// refused, and the resizer and uploader pod specs run under podman kube
// play. It is a module of its own so that the API types' dependencies stay
// out of imgorigin's.
package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
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
	"keda.sh/v1alpha1/ScaledObject":          func() any { return &kedav1alpha1.ScaledObject{} },
	"keda.sh/v1alpha1/ScaledJob":             func() any { return &kedav1alpha1.ScaledJob{} },
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
	newObj, ok := types[id]
	if !ok {
		return nil, id, fmt.Errorf("no API type known for %s", id)
	}
	obj := newObj()
	return obj, id, yaml.UnmarshalStrict(doc, obj)
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
	for id := range types {
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
	doc = []byte("apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata:\n  name: x\nspec:\n  maxReplicas: 2\n")
	if _, _, err := decodeStrict(doc); err == nil {
		t.Fatal("ScaledJob with an unknown field decoded")
	}
}
