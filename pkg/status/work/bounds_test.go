package work

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tether-io/tether/pkg/status/interpret"
)

// bigConditions is a status.conditions list far over StatusLimit.
func bigConditions(n int) []any {
	var cs []any
	for i := range n {
		cs = append(cs, map[string]any{"type": fmt.Sprintf("C%d", i), "status": "False", "reason": "Failing",
			"message": strings.Repeat("the webhook said no; ", 40)})
	}
	return cs
}

// live is a member object of the given kind with status.
func live(apiVersion, kind string, status map[string]any, extra map[string]any) *unstructured.Unstructured {
	obj := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": "x", "namespace": "ns", "generation": int64(4)},
		"status": status}
	for k, v := range extra {
		obj[k] = v
	}
	return &unstructured.Unstructured{Object: obj}
}

// Every kind interpret reflects, fed an oversized member status, gives a
// bounded, valid reflected status that keeps the fields the control plane
// aggregates.
func TestBoundedReflectionOfEveryKind(t *testing.T) {
	workload := map[string]any{"replicas": int64(5), "readyReplicas": int64(4), "updatedReplicas": int64(5), "availableReplicas": int64(4),
		"unavailableReplicas": int64(1), "observedGeneration": int64(4), "currentReplicas": int64(5),
		"desiredNumberScheduled": int64(3), "numberReady": int64(3), "conditions": bigConditions(30)}
	var ingress []any
	for i := range 300 {
		ingress = append(ingress, map[string]any{"ip": fmt.Sprintf("10.0.%d.%d", i/250, i%250), "hostname": fmt.Sprintf("lb-%d.example.com", i)})
	}
	cases := []struct {
		name string
		obj  *unstructured.Unstructured
		keep []string // fields that must survive with their value
	}{
		{"Deployment", live("apps/v1", "Deployment", workload, nil),
			[]string{"replicas", "readyReplicas", "updatedReplicas", "availableReplicas", "unavailableReplicas", "observedGeneration", "generation"}},
		{"ReplicaSet", live("apps/v1", "ReplicaSet", workload, nil), []string{"replicas", "readyReplicas", "availableReplicas", "observedGeneration"}},
		{"StatefulSet", live("apps/v1", "StatefulSet", workload, nil), []string{"replicas", "readyReplicas", "currentReplicas", "updatedReplicas"}},
		{"DaemonSet", live("apps/v1", "DaemonSet", workload, nil), []string{"desiredNumberScheduled", "numberReady", "observedGeneration"}},
		{"Job with long condition messages", live("batch/v1", "Job", map[string]any{"active": int64(2), "failed": int64(1), "conditions": bigConditions(8)}, nil),
			[]string{"active", "failed"}},
		{"LoadBalancer Service with many ingress points", live("v1", "Service", map[string]any{"loadBalancer": map[string]any{"ingress": ingress}},
			map[string]any{"spec": map[string]any{"type": "LoadBalancer"}}), nil},
		{"PodDisruptionBudget", live("policy/v1", "PodDisruptionBudget", map[string]any{"disruptionsAllowed": int64(1), "currentHealthy": int64(3),
			"desiredHealthy": int64(2), "expectedPods": int64(3), "conditions": bigConditions(20)}, nil), []string{"disruptionsAllowed", "currentHealthy"}},
		{"HorizontalPodAutoscaler", live("autoscaling/v2", "HorizontalPodAutoscaler", map[string]any{"currentReplicas": int64(3), "desiredReplicas": int64(4),
			"conditions": bigConditions(20)}, nil), []string{"currentReplicas", "desiredReplicas"}},
		{"custom resource (whole status)", live("example.io/v1", "Widget", map[string]any{"phase": "Ready", "observedGeneration": int64(4), "ready": true,
			"conditions": bigConditions(30), "history": ingress}, nil), []string{"phase", "observedGeneration", "ready"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reflected, err := interpret.ReflectStatus(c.obj)
			if err != nil || reflected == nil {
				t.Fatalf("ReflectStatus = %v, %v", reflected, err)
			}
			got := boundStatus(reflected, StatusLimit)
			if len(got.Raw) > StatusLimit {
				t.Fatalf("bounded status is %d bytes, over %d", len(got.Raw), StatusLimit)
			}
			var out, in map[string]any
			if err := json.Unmarshal(got.Raw, &out); err != nil {
				t.Fatalf("bounded status is not a JSON object: %v: %s", err, got.Raw)
			}
			_ = json.Unmarshal(reflected.Raw, &in)
			for _, k := range c.keep {
				if fmt.Sprint(out[k]) != fmt.Sprint(in[k]) || out[k] == nil {
					t.Errorf("%s = %v, want %v (kept)", k, out[k], in[k])
				}
			}
			if len(reflected.Raw) > StatusLimit && out["truncated"] != true && !strings.Contains(string(got.Raw), truncatedMark) {
				t.Errorf("a cut status does not say so: %s", got.Raw)
			}
		})
	}
}

// A whole Deployment status (conditions and all, as a custom reflector might
// return it) over the bound keeps every counter Karmada sums.
func TestOversizedDeploymentStatusKeepsItsCounters(t *testing.T) {
	status := map[string]any{"replicas": 5, "readyReplicas": 4, "updatedReplicas": 5, "availableReplicas": 4, "unavailableReplicas": 1,
		"observedGeneration": 9, "collisionCount": 2, "conditions": bigConditions(200)}
	raw, _ := json.Marshal(status)
	got := boundStatus(&runtime.RawExtension{Raw: raw}, StatusLimit)
	if len(got.Raw) > StatusLimit {
		t.Fatalf("%d bytes", len(got.Raw))
	}
	var out map[string]any
	if err := json.Unmarshal(got.Raw, &out); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"replicas", "readyReplicas", "updatedReplicas", "availableReplicas", "unavailableReplicas", "observedGeneration"} {
		if fmt.Sprint(out[k]) != fmt.Sprint(status[k]) {
			t.Errorf("%s = %v, want %v", k, out[k], status[k])
		}
	}
	if out["truncated"] != true || out["bytes"] != float64(len(raw)) {
		t.Errorf("the cut is not marked with the original size: %s", got.Raw)
	}
}

func TestBoundStatusLastResortAndSmallStatuses(t *testing.T) {
	small := &runtime.RawExtension{Raw: []byte(`{"replicas":1}`)}
	if got := boundStatus(small, StatusLimit); got != small {
		t.Errorf("a small status was changed: %s", got.Raw)
	}
	if boundStatus(nil, StatusLimit) != nil {
		t.Error("nil became a status")
	}
	var keys []string
	for i := range 400 {
		keys = append(keys, fmt.Sprintf(`"counter%03d":%d`, i, i))
	}
	for name, raw := range map[string]string{
		"too many scalars": "{" + strings.Join(keys, ",") + "}",
		"an array":         "[" + strings.Repeat(`"x",`, 2000) + `"x"]`,
		"not JSON":         strings.Repeat("{", 3000),
	} {
		got := boundStatus(&runtime.RawExtension{Raw: []byte(raw)}, StatusLimit)
		want := fmt.Sprintf(`{"bytes":%d,"truncated":true}`, len(raw))
		if string(got.Raw) != want {
			t.Errorf("%s: got %s, want %s", name, got.Raw, want)
		}
	}
}

func TestSafeTextWithholdsContentAndBoundsLength(t *testing.T) {
	secret := "c2VjcmV0LXZhbHVl"
	cases := []struct{ in, keep string }{
		{`Object 'Kind' is missing in '{"apiVersion":"v1","metadata":{"name":"s"},"data":{"password":"` + secret + `"}}'`, "Object 'Kind' is missing in"},
		{`manifest 3: cannot decode map[apiVersion:v1 data:map[password:` + secret + `]]`, "manifest 3: cannot decode"},
		{`bad value: "data": {"password": "` + secret + `"}`, "bad value"},
		{`bad value { "stringData" : {"token":"` + secret + `"}}`, "bad value"},
	}
	for _, c := range cases {
		got := safeText(c.in, TextLimit)
		if strings.Contains(got, secret) || !strings.Contains(got, c.keep) || !strings.Contains(got, withheldMark) {
			t.Errorf("safeText(%q) = %q", c.in, got)
		}
	}
	plain := `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`
	if got := safeText(plain, TextLimit); got != plain {
		t.Errorf("an ordinary error was changed: %q", got)
	}
	long := strings.Repeat("é", 5000) // 2 bytes a rune
	got := safeText(long, TextLimit)
	if len(got) > TextLimit || !utf8.ValidString(got) || !strings.Contains(got, "10000 bytes") {
		t.Errorf("long text: %d bytes, valid %v, tail %q", len(got), utf8.ValidString(got), got[max(len(got)-40, 0):])
	}
}

func TestTruncateMessageKeepsCountsAndWholeErrors(t *testing.T) {
	var errs []string
	for i := range 500 {
		errs = append(errs, fmt.Sprintf(`ConfigMap ns/cm-%d: the server rejected it: résumé too long`, i))
	}
	msg := fmt.Sprintf("Failed to apply all manifests (%d/%d): [%s]", 0, 500, strings.Join(errs, ", "))
	got := TruncateMessage(msg)
	if len(got) > MessageLimit || !utf8.ValidString(got) {
		t.Fatalf("%d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if !strings.HasPrefix(got, "Failed to apply all manifests (0/500): [ConfigMap ns/cm-0: ") {
		t.Errorf("counts lost: %q", got[:80])
	}
	body := strings.TrimSuffix(got[:strings.LastIndex(got, ", …")], "")
	if !strings.HasSuffix(body, "résumé too long") {
		t.Errorf("cut inside an error: %q", body[len(body)-60:])
	}
	if short := "Failed to apply all manifests (1/2): boom"; TruncateMessage(short) != short {
		t.Errorf("a short message was changed")
	}
}
