package interpret

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// live builds a live object of apiVersion and kind from YAML flow
// fragments of its metadata (besides the name), spec and status; an empty
// status fragment leaves .status out.
func live(t *testing.T, apiVersion, kind, meta, spec, status string) string {
	t.Helper()
	s := fmt.Sprintf("{apiVersion: %s, kind: %s, metadata: {name: x, namespace: ns%s}, spec: {%s}", apiVersion, kind, meta, spec)
	if status != "" {
		s += ", status: " + status
	}
	return s + "}"
}

type healthCase struct {
	name               string
	meta, spec, status string
	want               workv1alpha1.ResourceHealth
}

// checkHealth runs cases against every apiVersion given.
func checkHealth(t *testing.T, kind string, apiVersions []string, cases []healthCase) {
	t.Helper()
	for _, av := range apiVersions {
		for _, tc := range cases {
			t.Run(av+"/"+kind+"/"+tc.name, func(t *testing.T) {
				obj := object(t, live(t, av, kind, tc.meta, tc.spec, tc.status))
				if got := Health(obj); got != tc.want {
					t.Fatalf("Health = %s, want %s", got, tc.want)
				}
			})
		}
	}
}

func TestKruiseHealth(t *testing.T) {
	cases := []healthCase{
		{"rolled out", ", generation: 3", "replicas: 4", "{observedGeneration: 3, replicas: 4, updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4}", healthy},
		{"updating", ", generation: 3", "replicas: 4", "{observedGeneration: 3, replicas: 4, updatedReplicas: 2, readyReplicas: 4, availableReplicas: 4}", unhealthy},
		{"updated but not available", ", generation: 3", "replicas: 4", "{observedGeneration: 3, replicas: 4, updatedReplicas: 4, readyReplicas: 3, availableReplicas: 3}", unhealthy},
		{"stale observedGeneration", ", generation: 4", "replicas: 4", "{observedGeneration: 3, replicas: 4, updatedReplicas: 4, availableReplicas: 4}", unhealthy},
		{"not seen by its controller", ", generation: 1", "replicas: 2", "", unhealthy},
		{"zero counters omitted", ", generation: 1", "replicas: 0", "{observedGeneration: 1}", healthy},
		{"malformed counter", ", generation: 1", "replicas: 2", "{observedGeneration: 1, updatedReplicas: two}", unknown},
		{"malformed status", ", generation: 1", "replicas: 2", "ready", unknown},
	}
	checkHealth(t, "CloneSet", []string{"apps.kruise.io/v1alpha1"}, cases)
	checkHealth(t, "StatefulSet", []string{"apps.kruise.io/v1alpha1", "apps.kruise.io/v1beta1"}, cases)
}

func TestRolloutHealth(t *testing.T) {
	checkHealth(t, "Rollout", []string{"argoproj.io/v1alpha1"}, []healthCase{
		{"healthy", ", generation: 6", "replicas: 5", `{observedGeneration: "6", phase: Healthy, replicas: 5, updatedReplicas: 5, availableReplicas: 5}`, healthy},
		{"progressing", ", generation: 6", "replicas: 5", `{observedGeneration: "6", phase: Progressing, replicas: 6, updatedReplicas: 2, availableReplicas: 5}`, unhealthy},
		{"paused at a canary step", ", generation: 6", "replicas: 5", `{observedGeneration: "6", phase: Paused, currentStepIndex: 1, updatedReplicas: 1, availableReplicas: 5}`, unhealthy},
		{"degraded", ", generation: 6", "replicas: 5", `{observedGeneration: "6", phase: Degraded, message: "ProgressDeadlineExceeded"}`, unhealthy},
		{"aborted", ", generation: 6", "replicas: 5", `{observedGeneration: "6", phase: Degraded, abort: true}`, unhealthy},
		{"aborted though phase says healthy", ", generation: 6", "replicas: 5", `{observedGeneration: "6", phase: Healthy, abort: true}`, unhealthy},
		{"stale observedGeneration", ", generation: 7", "replicas: 5", `{observedGeneration: "6", phase: Healthy, updatedReplicas: 5, availableReplicas: 5}`, unhealthy},
		{"no phase, counters complete", ", generation: 2", "replicas: 3", `{observedGeneration: "2", updatedReplicas: 3, availableReplicas: 3}`, healthy},
		{"no phase, counters short", ", generation: 2", "replicas: 3", `{observedGeneration: "2", updatedReplicas: 3, availableReplicas: 1}`, unhealthy},
		{"not seen by its controller", ", generation: 1", "replicas: 3", "", unhealthy},
		{"malformed observedGeneration", ", generation: 1", "replicas: 3", `{observedGeneration: "one", phase: Healthy}`, unknown},
	})
}

func TestFluxHealth(t *testing.T) {
	cases := []healthCase{
		{"ready", ", generation: 3", "interval: 10m", `{observedGeneration: 3, conditions: [{type: Ready, status: "True", reason: ReconciliationSucceeded, observedGeneration: 3}]}`, healthy},
		{"ready after an upgrade", ", generation: 3", "interval: 10m", `{observedGeneration: 3, conditions: [{type: Ready, status: "True", reason: UpgradeSucceeded}]}`, healthy},
		{"progressing", ", generation: 3", "interval: 10m", `{observedGeneration: 3, conditions: [{type: Ready, status: Unknown, reason: Progressing}, {type: Reconciling, status: "True"}]}`, unhealthy},
		{"failed", ", generation: 3", "interval: 10m", `{observedGeneration: 3, failures: 2, conditions: [{type: Ready, status: "False", reason: InstallFailed}, {type: Stalled, status: "True", reason: RetriesExceeded}]}`, unhealthy},
		{"stale observedGeneration", ", generation: 4", "interval: 10m", `{observedGeneration: 3, conditions: [{type: Ready, status: "True", reason: ReconciliationSucceeded}]}`, unhealthy},
		{"ready condition for an older generation", ", generation: 4", "interval: 10m", `{observedGeneration: 4, conditions: [{type: Ready, status: "True", reason: ReconciliationSucceeded, observedGeneration: 3}]}`, unhealthy},
		{"no conditions yet", ", generation: 1", "interval: 10m", `{observedGeneration: -1}`, unhealthy},
		{"not seen by its controller", ", generation: 1", "interval: 10m", "", unhealthy},
	}
	checkHealth(t, "HelmRelease", []string{"helm.toolkit.fluxcd.io/v2", "helm.toolkit.fluxcd.io/v2beta2", "helm.toolkit.fluxcd.io/v2beta1"}, cases)
	checkHealth(t, "Kustomization", []string{"kustomize.toolkit.fluxcd.io/v1", "kustomize.toolkit.fluxcd.io/v1beta2"}, cases)
}

func TestKubeflowJobHealth(t *testing.T) {
	cases := []healthCase{
		{"created", ", generation: 1", "runPolicy: {}", `{conditions: [{type: Created, status: "True"}]}`, healthy},
		{"running", ", generation: 1", "runPolicy: {}", `{replicaStatuses: {Worker: {active: 2}}, conditions: [{type: Created, status: "True"}, {type: Running, status: "True"}]}`, healthy},
		{"succeeded", ", generation: 1", "runPolicy: {}", `{replicaStatuses: {Worker: {succeeded: 2}}, conditions: [{type: Running, status: "False"}, {type: Succeeded, status: "True"}]}`, healthy},
		{"failed", ", generation: 1", "runPolicy: {}", `{replicaStatuses: {Worker: {failed: 1}}, conditions: [{type: Running, status: "False"}, {type: Failed, status: "True"}]}`, unhealthy},
		{"failed condition false", ", generation: 1", "runPolicy: {}", `{conditions: [{type: Failed, status: "False"}]}`, healthy},
		{"no condition yet", ", generation: 1", "runPolicy: {}", `{}`, unhealthy},
		{"not seen by its operator", ", generation: 1", "runPolicy: {}", "", unhealthy},
		{"malformed conditions", ", generation: 1", "runPolicy: {}", `{conditions: failed}`, unknown},
	}
	for _, kind := range []string{"PyTorchJob", "TFJob", "MPIJob", "XGBoostJob", "PaddleJob", "JAXJob"} {
		checkHealth(t, kind, []string{"kubeflow.org/v1"}, cases)
	}
	checkHealth(t, "MPIJob", []string{"kubeflow.org/v2beta1"}, cases)
}

func TestRayHealth(t *testing.T) {
	checkHealth(t, "RayJob", []string{"ray.io/v1"}, []healthCase{
		{"running", ", generation: 1", "entrypoint: run", `{jobDeploymentStatus: Running, jobStatus: RUNNING}`, healthy},
		{"succeeded", ", generation: 1", "entrypoint: run", `{jobDeploymentStatus: Complete, jobStatus: SUCCEEDED}`, healthy},
		{"initializing", ", generation: 1", "entrypoint: run", `{jobDeploymentStatus: Initializing}`, unhealthy},
		{"complete but failed", ", generation: 1", "entrypoint: run", `{jobDeploymentStatus: Complete, jobStatus: FAILED}`, unhealthy},
		{"failed", ", generation: 1", "entrypoint: run", `{jobDeploymentStatus: Failed, jobStatus: FAILED, reason: DeadlineExceeded}`, unhealthy},
		{"validation failed", ", generation: 1", "entrypoint: run", `{jobDeploymentStatus: ValidationFailed}`, unhealthy},
		{"suspended", ", generation: 1", "entrypoint: run", `{jobDeploymentStatus: Suspended}`, unhealthy},
		{"not seen by its operator", ", generation: 1", "entrypoint: run", "", unhealthy},
	})
	checkHealth(t, "RayCluster", []string{"ray.io/v1"}, []healthCase{
		{"ready", ", generation: 1", "headGroupSpec: {}", `{state: ready, conditions: [{type: HeadPodReady, status: "True"}, {type: RayClusterProvisioned, status: "True"}]}`, healthy},
		{"provisioning", ", generation: 1", "headGroupSpec: {}", `{conditions: [{type: HeadPodReady, status: "True"}, {type: RayClusterProvisioned, status: "False"}]}`, unhealthy},
		{"head pod down", ", generation: 1", "headGroupSpec: {}", `{conditions: [{type: HeadPodReady, status: "False"}, {type: RayClusterProvisioned, status: "True"}]}`, unhealthy},
		{"replica failure", ", generation: 1", "headGroupSpec: {}", `{conditions: [{type: HeadPodReady, status: "True"}, {type: RayClusterProvisioned, status: "True"}, {type: RayClusterReplicaFailure, status: "True", reason: FailedCreateWorkerPod}]}`, unhealthy},
		{"no conditions", ", generation: 1", "headGroupSpec: {}", `{state: ready}`, unhealthy},
	})
}

// TestThirdPartyReflectStatus checks the reflected shape of each kind
// against the live objects of testdata: the fields the control plane's
// aggregation reads, the generations, and nothing else.
func TestThirdPartyReflectStatus(t *testing.T) {
	cases := []struct {
		apiVersion, kind, name string
		want                   string
	}{
		{"apps.kruise.io/v1alpha1", "CloneSet", "web", `{"availableReplicas":3,"currentRevision":"web-6b8f","expectedUpdatedReplicas":4,"generation":5,` +
			`"labelSelector":"app=web","observedGeneration":5,"readyReplicas":4,"replicas":4,"resourceTemplateGeneration":7,"updateRevision":"web-6b8f","updatedReadyReplicas":3,"updatedReplicas":4}`},
		{"apps.kruise.io/v1beta1", "StatefulSet", "db", `{"availableReplicas":3,"currentReplicas":3,"currentRevision":"db-7c9d","generation":2,"observedGeneration":2,` +
			`"readyReplicas":3,"replicas":3,"updateRevision":"db-7c9d","updatedReadyReplicas":3,"updatedReplicas":3}`},
		{"argoproj.io/v1alpha1", "Rollout", "checkout", `{"availableReplicas":5,"currentPodHash":"7f6b9c","currentStepIndex":1,"generation":6,"observedGeneration":"6",` +
			`"pauseConditions":[{"reason":"CanaryPauseStep","startTime":"2024-05-01T10:00:00Z"}],"phase":"Paused","readyReplicas":5,"replicas":5,"resourceTemplateGeneration":3,"stableRS":"5d4c3b","updatedReplicas":1}`},
		{"kustomize.toolkit.fluxcd.io/v1", "Kustomization", "infra", `{"conditions":[{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"Applied revision: main@sha1:5b2e",` +
			`"observedGeneration":4,"reason":"ReconciliationSucceeded","status":"True","type":"Ready"}],"generation":4,"lastAppliedRevision":"main@sha1:5b2e","lastAttemptedRevision":"main@sha1:5b2e","observedGeneration":4}`},
		{"helm.toolkit.fluxcd.io/v2beta1", "HelmRelease", "ingress", `{"conditions":[{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"Release reconciliation succeeded","reason":"ReconciliationSucceeded","status":"True","type":"Ready"},` +
			`{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"Helm upgrade succeeded","reason":"UpgradeSucceeded","status":"True","type":"Released"}],"generation":1,"helmChart":"apps/apps-ingress",` +
			`"lastAppliedRevision":"4.8.3","lastAttemptedRevision":"4.8.3","lastAttemptedValuesChecksum":"da39a3ee5e6b","lastReleaseRevision":2,"observedGeneration":1}`},
		{"kubeflow.org/v2beta1", "MPIJob", "pi", `{"conditions":[{"lastTransitionTime":"2024-05-01T10:00:00Z","lastUpdateTime":"2024-05-01T10:00:00Z","reason":"MPIJobCreated","status":"True","type":"Created"},` +
			`{"lastTransitionTime":"2024-05-01T10:01:00Z","lastUpdateTime":"2024-05-01T10:01:00Z","reason":"MPIJobRunning","status":"True","type":"Running"}],"lastReconcileTime":"2024-05-01T10:02:00Z",` +
			`"replicaStatuses":{"Launcher":{"active":1,"selector":"training.kubeflow.org/job-name=pi"},"Worker":{"active":2}},"startTime":"2024-05-01T10:00:00Z"}`},
	}
	objs := liveObjects(t)
	for _, tc := range cases {
		t.Run(tc.apiVersion+"/"+tc.kind, func(t *testing.T) {
			obj, ok := objs[tc.apiVersion+"/"+tc.kind+"/"+tc.name]
			if !ok {
				t.Fatalf("testdata/live-objects.yaml has no %s %s", tc.kind, tc.name)
			}
			raw, err := ReflectStatus(obj)
			if err != nil || raw == nil {
				t.Fatalf("ReflectStatus = %v, %v", raw, err)
			}
			if !jsonEqual(t, raw.Raw, []byte(tc.want)) {
				t.Fatalf("reflected %s\nwant      %s", raw.Raw, tc.want)
			}
		})
	}
}

// TestThirdPartyWholeStatus: the kinds whose Karmada reflection is the
// whole .status report it unchanged.
func TestThirdPartyWholeStatus(t *testing.T) {
	objs := liveObjects(t)
	for _, key := range []string{"kubeflow.org/v1/PyTorchJob/mnist", "kubeflow.org/v1/TFJob/dist", "ray.io/v1/RayJob/sum", "ray.io/v1/RayCluster/raycluster-kuberay"} {
		t.Run(key, func(t *testing.T) {
			obj := objs[key]
			raw, err := ReflectStatus(obj)
			if err != nil || raw == nil {
				t.Fatalf("ReflectStatus = %v, %v", raw, err)
			}
			want, _ := json.Marshal(obj.Object["status"])
			if !jsonEqual(t, raw.Raw, want) {
				t.Fatalf("reflected %s\nwant      %s", raw.Raw, want)
			}
		})
	}
}

// TestThirdPartyLiveObjects pins the verdict on each realistic live object.
func TestThirdPartyLiveObjects(t *testing.T) {
	want := map[string]workv1alpha1.ResourceHealth{
		"apps.kruise.io/v1alpha1/CloneSet/web":                   unhealthy, // 3 of 4 updated replicas available
		"apps.kruise.io/v1beta1/StatefulSet/db":                  healthy,
		"apps.kruise.io/v1alpha1/StatefulSet/cache":              unhealthy, // generation 4 not observed
		"argoproj.io/v1alpha1/Rollout/checkout":                  unhealthy, // paused at a canary step
		"helm.toolkit.fluxcd.io/v2/HelmRelease/podinfo":          healthy,
		"helm.toolkit.fluxcd.io/v2beta2/HelmRelease/redis":       unhealthy,
		"helm.toolkit.fluxcd.io/v2beta1/HelmRelease/ingress":     healthy,
		"kustomize.toolkit.fluxcd.io/v1/Kustomization/infra":     healthy,
		"kustomize.toolkit.fluxcd.io/v1beta2/Kustomization/apps": unhealthy,
		"kubeflow.org/v1/PyTorchJob/mnist":                       healthy,
		"kubeflow.org/v1/TFJob/dist":                             unhealthy,
		"kubeflow.org/v1/MPIJob/hvd":                             healthy,
		"kubeflow.org/v1/XGBoostJob/xgb":                         unhealthy,
		"kubeflow.org/v1/JAXJob/jax":                             healthy,
		"kubeflow.org/v2beta1/MPIJob/pi":                         healthy,
		"ray.io/v1/RayJob/sum":                                   healthy,
		"ray.io/v1/RayCluster/raycluster-kuberay":                healthy,
	}
	objs := liveObjects(t)
	for key, w := range want {
		obj, ok := objs[key]
		if !ok {
			t.Errorf("testdata/live-objects.yaml has no %s", key)
			continue
		}
		if got := Health(obj); got != w {
			t.Errorf("%s: Health = %s, want %s", key, got, w)
		}
	}
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %s", a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return reflect.DeepEqual(x, y)
}

// liveObjects indexes testdata/live-objects.yaml by "apiVersion/kind/name".
func liveObjects(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	for _, seed := range liveSeeds(t) {
		obj, ok := decodeLive(seed)
		if !ok {
			t.Fatalf("seed does not decode: %s", seed)
		}
		out[obj.GetAPIVersion()+"/"+obj.GetKind()+"/"+obj.GetName()] = obj
	}
	return out
}
