package aggregate

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// itemsOf builds items from "cluster=status JSON" pairs; "cluster=" has no status.
func itemsOf(pairs ...string) []Item {
	items := make([]Item, len(pairs))
	for i, p := range pairs {
		cluster, status, _ := strings.Cut(p, "=")
		items[i] = Item{ClusterName: cluster, Work: "w-" + cluster, Applied: status != ""}
		if status != "" {
			items[i].Status = &runtime.RawExtension{Raw: []byte(status)}
		}
	}
	return items
}

func TestAggregators(t *testing.T) {
	cases := []struct {
		name     string
		template string // YAML manifest; its kind selects the aggregator
		items    []Item
		want     string // JSON; "" means no aggregated status
		err      string
	}{
		{
			name:     "deployment sums the five counters, skipping clusters without status",
			template: `{apiVersion: apps/v1, kind: Deployment}`,
			items: itemsOf(`m1={"replicas":3,"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2,"unavailableReplicas":1,"observedGeneration":4,"generation":4}`,
				`m2={"replicas":1,"readyReplicas":1,"updatedReplicas":1,"availableReplicas":1}`, "m3="),
			want: `{"replicas":4,"readyReplicas":3,"updatedReplicas":4,"availableReplicas":3,"unavailableReplicas":1}`,
		},
		{
			name:     "deployment with no status anywhere is all zeros",
			template: `{apiVersion: apps/v1, kind: Deployment}`,
			items:    itemsOf("m1="),
			want:     `{"replicas":0,"readyReplicas":0,"updatedReplicas":0,"availableReplicas":0,"unavailableReplicas":0}`,
		},
		{
			name:     "replicaset sums replicas, ready and available only",
			template: `{apiVersion: apps/v1, kind: ReplicaSet}`,
			items:    itemsOf(`m1={"replicas":2,"readyReplicas":2,"availableReplicas":1,"fullyLabeledReplicas":2}`, `m2={"replicas":1}`),
			want:     `{"replicas":3,"readyReplicas":2,"availableReplicas":1}`,
		},
		{
			name:     "daemonset sums the seven counters",
			template: `{apiVersion: apps/v1, kind: DaemonSet}`,
			items: itemsOf(`m1={"currentNumberScheduled":3,"desiredNumberScheduled":3,"numberAvailable":2,"numberMisscheduled":1,"numberReady":2,"updatedNumberScheduled":3,"numberUnavailable":1}`,
				`m2={"currentNumberScheduled":1,"desiredNumberScheduled":1,"numberAvailable":1,"numberMisscheduled":0,"numberReady":1,"updatedNumberScheduled":1}`),
			want: `{"currentNumberScheduled":4,"desiredNumberScheduled":4,"numberAvailable":3,"numberMisscheduled":1,"numberReady":3,"updatedNumberScheduled":4,"numberUnavailable":1}`,
		},
		{
			name:     "statefulset sums the five counters",
			template: `{apiVersion: apps/v1, kind: StatefulSet}`,
			items:    itemsOf(`m1={"replicas":2,"availableReplicas":2,"currentReplicas":2,"readyReplicas":2,"updatedReplicas":1}`, `m2={"replicas":1,"availableReplicas":0}`),
			want:     `{"availableReplicas":2,"currentReplicas":2,"readyReplicas":2,"replicas":3,"updatedReplicas":1}`,
		},
		{
			name:     "autoscaling/v2 HPA sums current and desired replicas",
			template: `{apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler}`,
			items:    itemsOf(`m1={"currentReplicas":2,"desiredReplicas":3}`, `m2={"currentReplicas":1,"desiredReplicas":1}`),
			want:     `{"currentReplicas":3,"desiredReplicas":4}`,
		},
		{
			name:     "autoscaling/v1 HPA is not aggregated",
			template: `{apiVersion: autoscaling/v1, kind: HorizontalPodAutoscaler}`,
			items:    itemsOf(`m1={"currentReplicas":2}`),
		},
		{
			name:     "pdb sums and prefixes disrupted pods with the cluster",
			template: `{apiVersion: policy/v1, kind: PodDisruptionBudget}`,
			items: itemsOf(`m1={"currentHealthy":2,"desiredHealthy":1,"expectedPods":2,"disruptionsAllowed":1,"disruptedPods":{"web-0":"2026-01-01T00:00:00Z"}}`,
				`m2={"currentHealthy":1,"desiredHealthy":1,"expectedPods":1,"disruptionsAllowed":0}`),
			want: `{"currentHealthy":3,"desiredHealthy":2,"expectedPods":3,"disruptionsAllowed":1,"disruptedPods":{"m1/web-0":"2026-01-01T00:00:00Z"}}`,
		},
		{
			name:     "a ClusterIP service has no aggregated status",
			template: `{apiVersion: v1, kind: Service, spec: {type: ClusterIP}}`,
			items:    itemsOf(`m1={"loadBalancer":{"ingress":[{"ip":"1.2.3.4"}]}}`),
		},
		{
			name:     "a LoadBalancer service concatenates ingress, deduplicated and sorted",
			template: `{apiVersion: v1, kind: Service, spec: {type: LoadBalancer}}`,
			items: itemsOf(`m1={"loadBalancer":{"ingress":[{"ip":"10.0.0.2"},{"hostname":"b.example"}]}}`,
				`m2={"loadBalancer":{"ingress":[{"ip":"10.0.0.1","ipMode":"VIP"},{"ip":"10.0.0.2"}]}}`, "m3="),
			want: `{"loadBalancer":{"ingress":[{"hostname":"b.example"},{"ip":"10.0.0.1","ipMode":"VIP"},{"ip":"10.0.0.2"}]}}`,
		},
		{
			name:     "an ingress concatenates like a LoadBalancer service",
			template: `{apiVersion: networking.k8s.io/v1, kind: Ingress}`,
			items:    itemsOf(`m1={"loadBalancer":{"ingress":[{"ip":"10.0.0.9"}]}}`, `m2={}`),
			want:     `{"loadBalancer":{"ingress":[{"ip":"10.0.0.9"}]}}`,
		},
		{
			name:     "a job that failed somewhere says where; sums; no start time until every cluster started",
			template: `{apiVersion: batch/v1, kind: Job}`,
			items: itemsOf(`m1={"succeeded":1,"startTime":"2026-01-01T00:00:00Z","completionTime":"2026-01-01T00:05:00Z","conditions":[{"type":"Complete","status":"True"}]}`,
				`m2={"failed":2,"active":1,"conditions":[{"type":"Failed","status":"True"}]}`),
			want: `{"active":1,"succeeded":1,"failed":2,"conditions":[{"type":"Failed","status":"True","reason":"JobFailed","message":"Job executed failed in member clusters m2"}]}`,
		},
		{
			name:     "a job complete everywhere is Complete, with SuccessCriteriaMet, earliest start and latest completion",
			template: `{apiVersion: batch/v1, kind: Job}`,
			items: itemsOf(
				`m1={"succeeded":1,"startTime":"2026-01-01T00:01:00Z","completionTime":"2026-01-01T00:05:00Z","conditions":[{"type":"SuccessCriteriaMet","status":"True"},{"type":"Complete","status":"True"}]}`,
				`m2={"succeeded":2,"startTime":"2026-01-01T00:00:00Z","completionTime":"2026-01-01T00:09:00Z","conditions":[{"type":"SuccessCriteriaMet","status":"True"},{"type":"Complete","status":"True"}]}`),
			want: `{"active":0,"succeeded":3,"failed":0,"conditions":[` +
				`{"type":"Complete","status":"True","reason":"Completed","message":"Job completed"},` +
				`{"type":"SuccessCriteriaMet","status":"True","reason":"CompletionsReached","message":"All member clusters have met success criteria"}],` +
				`"startTime":"2026-01-01T00:00:00Z","completionTime":"2026-01-01T00:09:00Z"}`,
		},
		{
			name:     "a job is not Complete while a cluster has reported nothing",
			template: `{apiVersion: batch/v1, kind: Job}`,
			items: itemsOf(`m1={"succeeded":1,"startTime":"2026-01-01T00:00:00Z","completionTime":"2026-01-01T00:05:00Z","conditions":[{"type":"Complete","status":"True"}]}`,
				"m2="),
			want: `{"active":0,"succeeded":1,"failed":0}`,
		},
		{
			name:     "a cronjob concatenates active jobs and keeps the latest times",
			template: `{apiVersion: batch/v1, kind: CronJob}`,
			items: itemsOf(`m1={"active":[{"name":"j-1"}],"lastScheduleTime":"2026-01-01T00:10:00Z","lastSuccessfulTime":"2026-01-01T00:01:00Z"}`,
				`m2={"active":[{"name":"j-2"}],"lastScheduleTime":"2026-01-01T00:05:00Z","lastSuccessfulTime":"2026-01-01T00:06:00Z"}`),
			want: `{"active":[{"name":"j-1"},{"name":"j-2"}],"lastScheduleTime":"2026-01-01T00:10:00Z","lastSuccessfulTime":"2026-01-01T00:06:00Z"}`,
		},
		{
			name:     "pods: Running beats Succeeded; containers reduced to ready and state",
			template: `{apiVersion: v1, kind: Pod}`,
			items: itemsOf(`m1={"phase":"Running","containerStatuses":[{"name":"c","image":"nginx","ready":true,"restartCount":3,"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}`,
				`m2={"phase":"Succeeded","initContainerStatuses":[{"name":"i","ready":false,"state":{"terminated":{"exitCode":0,"startedAt":null,"finishedAt":null}}}]}`),
			want: `{"phase":"Running","containerStatuses":[{"ready":true,"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}],` +
				`"initContainerStatuses":[{"ready":false,"state":{"terminated":{"exitCode":0,"startedAt":null,"finishedAt":null}}}]}`,
		},
		{
			name:     "pods: a cluster without status is Pending, and Pending beats Running",
			template: `{apiVersion: v1, kind: Pod}`,
			items:    itemsOf(`m1={"phase":"Running"}`, "m2="),
			want:     `{"phase":"Pending"}`,
		},
		{
			name:     "pods: Failed beats everything",
			template: `{apiVersion: v1, kind: Pod}`,
			items:    itemsOf(`m1={"phase":"Running"}`, `m2={"phase":"Failed"}`, "m3="),
			want:     `{"phase":"Failed"}`,
		},
		{
			name:     "persistent volumes: Available beats Bound",
			template: `{apiVersion: v1, kind: PersistentVolume}`,
			items:    itemsOf(`m1={"phase":"Bound"}`, `m2={"phase":"Available"}`),
			want:     `{"phase":"Available"}`,
		},
		{
			name:     "persistent volumes: no status is Pending, which beats Available",
			template: `{apiVersion: v1, kind: PersistentVolume}`,
			items:    itemsOf(`m1={"phase":"Released"}`, "m2=", `m3={"phase":"Available"}`),
			want:     `{"phase":"Pending"}`,
		},
		{
			name:     "persistent volume claims: the last phase other than Bound",
			template: `{apiVersion: v1, kind: PersistentVolumeClaim}`,
			items:    itemsOf(`m1={"phase":"Pending"}`, `m2={"phase":"Bound"}`, "m3="),
			want:     `{"phase":"Pending"}`,
		},
		{
			name:     "persistent volume claims: Lost wins; Bound when nothing else",
			template: `{apiVersion: v1, kind: PersistentVolumeClaim}`,
			items:    itemsOf(`m1={"phase":"Pending"}`, `m2={"phase":"Lost"}`, `m3={"phase":"Pending"}`),
			want:     `{"phase":"Lost"}`,
		},
		{
			name:     "persistent volume claims without any status are Bound",
			template: `{apiVersion: v1, kind: PersistentVolumeClaim}`,
			items:    itemsOf("m1="),
			want:     `{"phase":"Bound"}`,
		},
		{
			name:     "a kind Karmada does not aggregate has no aggregated status",
			template: `{apiVersion: v1, kind: ConfigMap}`,
			items:    itemsOf(`m1={"anything":1}`),
		},
		{
			name:     "a status that is not the kind's shape names the cluster",
			template: `{apiVersion: v1, kind: Pod}`,
			items:    itemsOf(`m1={"phase":"Running"}`, `m2={"phase":3}`),
			err:      "status reported by cluster m2 (Work w-m2)",
		},
		{
			name:     "a status that is not an object",
			template: `{apiVersion: apps/v1, kind: Deployment}`,
			items:    itemsOf(`m1=[]`),
			err:      "status reported by cluster m1 (Work w-m1): status is not an object",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := yaml.YAMLToJSON([]byte(tc.template))
			if err != nil {
				t.Fatal(err)
			}
			template := &unstructured.Unstructured{}
			if err := template.UnmarshalJSON(raw); err != nil {
				t.Fatal(err)
			}
			r := Resource{Clusters: tc.items}
			err = r.aggregate(template)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.err)
				}
				if r.Status != nil {
					t.Errorf("status = %s, want none after an error", r.Status.Raw)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if r.Status != nil {
					t.Errorf("status = %s, want none", r.Status.Raw)
				}
				return
			}
			assertJSON(t, "status", r.Status, tc.want)
		})
	}
}

// TestAggregatorsCoverSection6 keeps the table in step with the contract's
// list of kinds.
func TestAggregatorsCoverSection6(t *testing.T) {
	var kinds []string
	for gvk := range aggregators {
		kinds = append(kinds, gvk.GroupVersion().String()+"/"+gvk.Kind)
	}
	want := []string{"apps/v1/Deployment", "apps/v1/ReplicaSet", "apps/v1/DaemonSet", "apps/v1/StatefulSet", "v1/Service",
		"networking.k8s.io/v1/Ingress", "batch/v1/Job", "batch/v1/CronJob", "v1/Pod", "v1/PersistentVolume",
		"v1/PersistentVolumeClaim", "policy/v1/PodDisruptionBudget", "autoscaling/v2/HorizontalPodAutoscaler"}
	slices.Sort(kinds)
	slices.Sort(want)
	if !slices.Equal(kinds, want) {
		t.Errorf("aggregators cover %v, want %v", kinds, want)
	}
}
