package interpret

import (
	"testing"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

func TestHealth(t *testing.T) {
	cases := []struct {
		name     string
		manifest string
		want     workv1alpha1.ResourceHealth
	}{
		// Deployment: observed, updated, available.
		{"deployment rolled out", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, generation: 2}, spec: {replicas: 3},
			status: {observedGeneration: 2, updatedReplicas: 3, availableReplicas: 3}}`, healthy},
		{"deployment not observed", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, generation: 2}, spec: {replicas: 3},
			status: {observedGeneration: 1, updatedReplicas: 3, availableReplicas: 3}}`, unhealthy},
		{"deployment still updating", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, generation: 2}, spec: {replicas: 3},
			status: {observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2}}`, unhealthy},
		{"deployment updated but not available", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, generation: 2}, spec: {replicas: 3},
			status: {observedGeneration: 2, updatedReplicas: 3, availableReplicas: 2}}`, unhealthy},
		{"deployment without status", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, generation: 1}, spec: {replicas: 1}}`, unhealthy},
		{"deployment with a malformed spec", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {replicas: many}}`, unknown},

		// StatefulSet: the Deployment rule plus partitions.
		{"statefulset rolled out", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, updatedReplicas: 2, availableReplicas: 2}}`, healthy},
		{"statefulset partitioned rollout done", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, generation: 3},
			spec: {replicas: 3, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}},
			status: {observedGeneration: 3, updatedReplicas: 1, availableReplicas: 3}}`, healthy},
		{"statefulset partitioned rollout with a pod down", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, generation: 3},
			spec: {replicas: 3, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}},
			status: {observedGeneration: 3, updatedReplicas: 1, availableReplicas: 2}}`, unhealthy},
		{"statefulset not observed", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, generation: 2}, spec: {replicas: 2},
			status: {observedGeneration: 1, updatedReplicas: 2, availableReplicas: 2}}`, unhealthy},

		// ReplicaSet and DaemonSet.
		{"replicaset available", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: r, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, availableReplicas: 2}}`, healthy},
		{"replicaset short", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: r, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, availableReplicas: 1}}`, unhealthy},
		{"daemonset rolled out", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d, generation: 1},
			status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3}}`, healthy},
		{"daemonset not updated", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d, generation: 1},
			status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 2}}`, unhealthy},
		{"daemonset not available", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d, generation: 1},
			status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1}}`, unhealthy},

		// Service and Ingress.
		{"clusterip service", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: ClusterIP}}`, healthy},
		{"loadbalancer with an ip", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer},
			status: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}}`, healthy},
		{"loadbalancer pending", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer},
			status: {loadBalancer: {ingress: [{ports: [{port: 80, protocol: TCP}]}]}}}`, unhealthy},
		{"ingress with a hostname", `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: i},
			status: {loadBalancer: {ingress: [{hostname: lb.example}]}}}`, healthy},
		{"ingress without an address", `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: i}, status: {loadBalancer: {}}}`, unhealthy},

		// Pod, PVC, PDB.
		{"pod running and ready", `{apiVersion: v1, kind: Pod, metadata: {name: p}, status: {phase: Running, conditions: [{type: Ready, status: "True"}]}}`, healthy},
		{"pod running not ready", `{apiVersion: v1, kind: Pod, metadata: {name: p}, status: {phase: Running, conditions: [{type: Ready, status: "False"}]}}`, unhealthy},
		{"pod succeeded", `{apiVersion: v1, kind: Pod, metadata: {name: p}, status: {phase: Succeeded}}`, healthy},
		{"pod pending", `{apiVersion: v1, kind: Pod, metadata: {name: p}, status: {phase: Pending}}`, unhealthy},
		{"pvc bound", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, status: {phase: Bound}}`, healthy},
		{"pvc pending", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, status: {phase: Pending}}`, unhealthy},
		{"pdb satisfied", `{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: p}, status: {currentHealthy: 2, desiredHealthy: 2}}`, healthy},
		{"pdb short", `{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: p}, status: {currentHealthy: 1, desiredHealthy: 2}}`, unhealthy},

		// Job: failed is Unhealthy (Karmada says Healthy).
		{"job running", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {active: 1}}`, healthy},
		{"job complete", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {succeeded: 1, conditions: [{type: Complete, status: "True"}]}}`, healthy},
		{"job failed", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {failed: 6, conditions: [{type: Failed, status: "True"}]}}`, unhealthy},
		{"job failing", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {failed: 6, conditions: [{type: FailureTarget, status: "True"}]}}`, unhealthy},
		{"job failed condition false", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {conditions: [{type: Failed, status: "False"}]}}`, healthy},

		// Rules of our own, for kinds Karmada has none for.
		{"pv bound", `{apiVersion: v1, kind: PersistentVolume, metadata: {name: v}, status: {phase: Bound}}`, healthy},
		{"pv released", `{apiVersion: v1, kind: PersistentVolume, metadata: {name: v}, status: {phase: Released}}`, healthy},
		{"pv failed", `{apiVersion: v1, kind: PersistentVolume, metadata: {name: v}, status: {phase: Failed}}`, unhealthy},
		{"crd established", `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: ws.example.io},
			status: {conditions: [{type: NamesAccepted, status: "True"}, {type: Established, status: "True"}]}}`, healthy},
		{"crd names not accepted", `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: ws.example.io},
			status: {conditions: [{type: NamesAccepted, status: "False"}, {type: Established, status: "False"}]}}`, unhealthy},
		{"crd not established yet", `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: ws.example.io}}`, unhealthy},

		// No rule: Healthy because it exists, as karmada-agent says,
		// whatever its status holds.
		{"configmap exists", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: b}}`, healthy},
		{"cronjob with activity", `{apiVersion: batch/v1, kind: CronJob, metadata: {name: c}, status: {active: [{name: j1}], lastScheduleTime: "2026-01-02T03:04:05Z"}}`, healthy},
		{"resourcequota with usage", `{apiVersion: v1, kind: ResourceQuota, metadata: {name: q}, status: {hard: {pods: "10"}, used: {pods: "2"}}}`, healthy},
		{"namespace terminating", `{apiVersion: v1, kind: Namespace, metadata: {name: team-a}, status: {phase: Terminating}}`, healthy},
		{"hpa cannot read metrics", `{apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: h},
			status: {desiredReplicas: 2, conditions: [{type: AbleToScale, status: "True"}, {type: ScalingActive, status: "False", reason: FailedGetResourceMetric}]}}`, healthy},
		{"custom resource with an empty status", `{apiVersion: example.io/v1, kind: Widget, metadata: {name: w}, status: {}}`, healthy},
		{"custom resource not ready", `{apiVersion: example.io/v1, kind: Widget, metadata: {name: w},
			status: {conditions: [{type: Ready, status: "False", reason: Waiting}]}}`, healthy},
		{"custom resource stalled", `{apiVersion: example.io/v1, kind: Widget, metadata: {name: w},
			status: {conditions: [{type: Stalled, status: "True", reason: BadSpec}]}}`, healthy},
		{"custom resource with a phase only", `{apiVersion: example.io/v1, kind: Widget, metadata: {name: w}, status: {phase: Running}}`, healthy},
		{"custom resource with a malformed status", `{apiVersion: example.io/v1, kind: Widget, metadata: {name: w}, status: running}`, healthy},
		{"a third-party group at a version without a rule", `{apiVersion: apps.kruise.io/v1alpha2, kind: CloneSet, metadata: {name: c, generation: 2},
			status: {observedGeneration: 1}}`, healthy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Health(object(t, tc.manifest)); got != tc.want {
				t.Fatalf("Health = %s, want %s", got, tc.want)
			}
		})
	}
}
