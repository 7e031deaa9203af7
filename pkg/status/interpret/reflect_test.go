package interpret

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// object parses a YAML manifest for a test case.
func object(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(manifest))
	if err != nil {
		t.Fatalf("bad test manifest: %v\n%s", err, manifest)
	}
	// UnmarshalJSON decodes numbers as int64, as a client does.
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(raw); err != nil {
		t.Fatalf("bad test manifest: %v\n%s", err, manifest)
	}
	return obj
}

func TestReflectStatus(t *testing.T) {
	cases := []struct {
		name     string
		manifest string
		want     string // JSON; "" means nil
	}{
		{
			name: "deployment keeps the counters and both generations",
			manifest: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: ns, generation: 3, annotations: {resourcetemplate.karmada.io/generation: "7"}}
status:
  replicas: 3
  updatedReplicas: 2
  readyReplicas: 2
  availableReplicas: 1
  unavailableReplicas: 2
  observedGeneration: 3
  collisionCount: 1
  conditions: [{type: Available, status: "True"}]`,
			want: `{"generation":3,"resourceTemplateGeneration":7,"replicas":3,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":1,"unavailableReplicas":2,"observedGeneration":3}`,
		},
		{
			name: "deployment without the template annotation still reflects",
			manifest: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, generation: 2}
status: {replicas: 1, readyReplicas: 1, observedGeneration: 2}`,
			want: `{"generation":2,"replicas":1,"readyReplicas":1,"observedGeneration":2}`,
		},
		{
			name: "deployment with a malformed annotation omits resourceTemplateGeneration",
			manifest: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, generation: 2, annotations: {resourcetemplate.karmada.io/generation: "x1"}}
status: {replicas: 1}`,
			want: `{"generation":2,"replicas":1}`,
		},
		{
			name: "deployment without status reports nothing",
			manifest: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, generation: 1}`,
		},
		{
			name: "deployment whose reflection is all zero reports nothing",
			manifest: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
status: {conditions: [{type: Progressing, status: "True"}]}`,
		},
		{
			name: "replicaset always serializes replicas",
			manifest: `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, generation: 1, annotations: {resourcetemplate.karmada.io/generation: "1"}}
status: {replicas: 0, fullyLabeledReplicas: 2, observedGeneration: 1}`,
			want: `{"generation":1,"resourceTemplateGeneration":1,"replicas":0,"observedGeneration":1}`,
		},
		{
			name: "daemonset always serializes the scheduling counters",
			manifest: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds, generation: 4, annotations: {resourcetemplate.karmada.io/generation: "2"}}
status:
  currentNumberScheduled: 3
  desiredNumberScheduled: 3
  numberReady: 0
  numberMisscheduled: 0
  numberAvailable: 2
  updatedNumberScheduled: 3
  numberUnavailable: 1
  observedGeneration: 4
  collisionCount: 2`,
			want: `{"generation":4,"resourceTemplateGeneration":2,"currentNumberScheduled":3,"numberMisscheduled":0,"desiredNumberScheduled":3,"numberReady":0,"observedGeneration":4,"updatedNumberScheduled":3,"numberAvailable":2,"numberUnavailable":1}`,
		},
		{
			name: "statefulset adds observedGeneration to Karmada's fields",
			manifest: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sts, generation: 2, annotations: {resourcetemplate.karmada.io/generation: "5"}}
status: {replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: 2, currentRevision: r1, updateRevision: r1}`,
			want: `{"generation":2,"resourceTemplateGeneration":5,"observedGeneration":2,"replicas":3,"readyReplicas":3,"currentReplicas":3,"updatedReplicas":3,"availableReplicas":3}`,
		},
		{
			name: "loadbalancer service reports its load balancer",
			manifest: `
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: LoadBalancer}
status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}, conditions: [{type: X, status: "True"}]}`,
			want: `{"loadBalancer":{"ingress":[{"ip":"1.2.3.4"}]}}`,
		},
		{
			name: "loadbalancer service without an address reports an empty load balancer",
			manifest: `
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: LoadBalancer}
status: {loadBalancer: {}}`,
			want: `{"loadBalancer":{}}`,
		},
		{
			name: "clusterip service reports nothing",
			manifest: `
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: ClusterIP}
status: {loadBalancer: {}}`,
		},
		{
			name: "ingress reports its whole status",
			manifest: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
status: {loadBalancer: {ingress: [{hostname: lb.example}]}}`,
			want: `{"loadBalancer":{"ingress":[{"hostname":"lb.example"}]}}`,
		},
		{
			name: "job keeps counters, conditions and times",
			manifest: `
apiVersion: batch/v1
kind: Job
metadata: {name: j}
status:
  active: 1
  succeeded: 2
  failed: 3
  ready: 1
  terminating: 0
  startTime: "2026-01-02T03:04:05Z"
  completionTime: "2026-01-02T03:05:05Z"
  uncountedTerminatedPods: {}
  conditions: [{type: Complete, status: "True", lastProbeTime: null, lastTransitionTime: "2026-01-02T03:05:05Z"}]`,
			want: `{"conditions":[{"type":"Complete","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-01-02T03:05:05Z"}],"startTime":"2026-01-02T03:04:05Z","completionTime":"2026-01-02T03:05:05Z","active":1,"succeeded":2,"failed":3}`,
		},
		{
			name: "pdb keeps its five fields",
			manifest: `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: p}
status: {observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptedPods: {p1: "2026-01-02T03:04:05Z"}, conditions: [{type: DisruptionAllowed, status: "True", reason: SufficientPods, message: "", lastTransitionTime: "2026-01-02T03:04:05Z"}]}`,
			want: `{"disruptedPods":{"p1":"2026-01-02T03:04:05Z"},"disruptionsAllowed":1,"currentHealthy":3,"desiredHealthy":2,"expectedPods":3}`,
		},
		{
			// currentMetrics has no omitempty upstream, so karmada-agent
			// sends a null too.
			name: "hpa v2 keeps current and desired replicas",
			manifest: `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
status: {currentReplicas: 2, desiredReplicas: 4, lastScaleTime: "2026-01-02T03:04:05Z", currentMetrics: []}`,
			want: `{"currentReplicas":2,"desiredReplicas":4,"currentMetrics":null}`,
		},
		{
			name: "hpa v1 is not in the table and reports its whole status",
			manifest: `
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: h}
status: {currentReplicas: 2, desiredReplicas: 4}`,
			want: `{"currentReplicas":2,"desiredReplicas":4}`,
		},
		{
			name: "custom resource reports its whole status",
			manifest: `
apiVersion: example.io/v1
kind: Widget
metadata: {name: w}
status: {phase: Ready, nested: {a: [1, 2]}}`,
			want: `{"nested":{"a":[1,2]},"phase":"Ready"}`,
		},
		{
			name: "configmap without status reports nothing",
			manifest: `
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {a: b}`,
		},
		{
			// karmada-agent reports the whole (empty) status: {}, not null.
			name: "empty status of a whole-status kind reports {}",
			manifest: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: c}
status: {}`,
			want: `{}`,
		},
		{
			name: "a new cronjob reports {}",
			manifest: `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c, generation: 1}
status: {}`,
			want: `{}`,
		},
		{
			name: "a job its controller has not seen reports {}",
			manifest: `
apiVersion: batch/v1
kind: Job
metadata: {name: j, generation: 1}
status: {}`,
			want: `{}`,
		},
		{
			name: "custom resource with an empty status reports {}",
			manifest: `
apiVersion: example.io/v1
kind: Widget
metadata: {name: w}
status: {}`,
			want: `{}`,
		},
		{
			// karmada-agent drops an empty Deployment status: not collected yet.
			name: "deployment with an empty status and no generation reports nothing",
			manifest: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
status: {}`,
		},
		{
			name: "clusterip service with a status reports nothing",
			manifest: `
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: ClusterIP}
status: {loadBalancer: {}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReflectStatus(object(t, tc.manifest))
			if err != nil {
				t.Fatalf("ReflectStatus: %v", err)
			}
			if tc.want == "" {
				if got != nil {
					t.Fatalf("got %s, want nil", got.Raw)
				}
				return
			}
			if got == nil {
				t.Fatalf("got nil, want %s", tc.want)
			}
			assertSameJSON(t, got.Raw, []byte(tc.want))
		})
	}
}

func TestReflectStatusRejectsMalformedStatus(t *testing.T) {
	for name, manifest := range map[string]string{
		"status is not an object": `{apiVersion: v1, kind: Pod, metadata: {name: p}, status: [1]}`,
		"counter is a string":     `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, status: {replicas: "three"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := ReflectStatus(object(t, manifest)); err == nil {
				t.Fatalf("want an error, got %v", got)
			}
		})
	}
}

// assertSameJSON compares two JSON documents by value.
func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("output is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
