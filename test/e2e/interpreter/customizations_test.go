package interpreter

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	configv1alpha1 "github.com/tether-io/tether/pkg/apis/config/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

func gvr(plural string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: "v1", Resource: plural}
}

const (
	reflectWidget = `function ReflectStatus(observedObj)
  local status = {}
  if observedObj.status == nil then return status end
  status.readyReplicas = observedObj.status.readyReplicas
  status.phase = observedObj.status.phase
  return status
end`
	widgetHealthy = `function InterpretHealth(observedObj)
  if observedObj.status == nil or observedObj.status.readyReplicas == nil then return false end
  return observedObj.status.readyReplicas >= observedObj.spec.replicas
end`
	widgetNeverHealthy = `function InterpretHealth(observedObj) return false end`
	loopForever        = `function ReflectStatus(observedObj) while true do end end`
	raiseError         = `function InterpretHealth(observedObj) return observedObj.status.missing.field end`
	retainReplicas     = `function Retain(desiredObj, observedObj)
  if observedObj.spec.replicas ~= nil then desiredObj.spec.replicas = observedObj.spec.replicas end
  return desiredObj
end`
)

func customization(name, kind string, rules configv1alpha1.CustomizationRules) *configv1alpha1.ResourceInterpreterCustomization {
	return &configv1alpha1.ResourceInterpreterCustomization{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: configv1alpha1.ResourceInterpreterCustomizationSpec{
			Target:         configv1alpha1.CustomizationTarget{APIVersion: group + "/v1", Kind: kind},
			Customizations: rules}}
}

// TestCustomizationsInterpretAtTheEdge: a Widget's status is the subset its
// customization reflects and its health the Lua verdict; an update of the
// customization on the hub changes the next verdict without a restart; a
// Gadget whose scripts loop and fail gets those errors in its own manifest
// entry while the other manifests of its Work and the other Work go on; and
// the Widget's retention rule keeps the replicas a member controller set.
func TestCustomizationsInterpretAtTheEdge(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	const cluster, ns = "ric-edge", "ric-edge"
	installKind(t, "Widget", "widgets")
	installKind(t, "Gadget", "gadgets")
	memberNamespace(t, ns)
	rics := hub(t).ConfigV1alpha1().ResourceInterpreterCustomizations()
	widgetRIC, err := rics.Create(ctx, customization("widgets", "Widget", configv1alpha1.CustomizationRules{
		StatusReflection:     &configv1alpha1.StatusReflection{LuaScript: reflectWidget},
		HealthInterpretation: &configv1alpha1.HealthInterpretation{LuaScript: widgetHealthy},
		Retention:            &configv1alpha1.LocalValueRetention{LuaScript: retainReplicas},
	}), metav1.CreateOptions{})
	testenv.NoError(t, err)
	_, err = rics.Create(ctx, customization("gadgets", "Gadget", configv1alpha1.CustomizationRules{
		StatusReflection:     &configv1alpha1.StatusReflection{LuaScript: loopForever},
		HealthInterpretation: &configv1alpha1.HealthInterpretation{LuaScript: raiseError},
	}), metav1.CreateOptions{})
	testenv.NoError(t, err)
	t.Cleanup(func() {
		_ = rics.Delete(context.Background(), "widgets", metav1.DeleteOptions{})
		_ = rics.Delete(context.Background(), "gadgets", metav1.DeleteOptions{})
	})
	testenv.NoError(t, env.Hub.GrantAgent(ctx, cluster))
	works := hub(t).WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(cluster))
	mixed := work(t, cluster, "mixed",
		custom("Widget", ns, "w1", map[string]any{"replicas": int64(3), "size": "small"}),
		custom("Gadget", ns, "g1", map[string]any{"color": "red"}),
		configMap(ns, "cm"))
	_, err = works.Create(ctx, mixed, metav1.CreateOptions{})
	testenv.NoError(t, err)
	_, err = works.Create(ctx, work(t, cluster, "other", custom("Widget", ns, "w2", map[string]any{"replicas": int64(1)})), metav1.CreateOptions{})
	testenv.NoError(t, err)
	testenv.StartAgent(t, env, testenv.AgentOptions{Cluster: cluster})
	t.Cleanup(func() {
		_ = hub(t).ClusterV1alpha1().Clusters().Delete(context.Background(), cluster, metav1.DeleteOptions{})
	})

	// The member's controller reports progress, with a field the reflection leaves out.
	setStatus(t, "widgets", ns, "w1", map[string]any{"readyReplicas": int64(1), "phase": "Rolling", "internal": "not-reflected"})
	setStatus(t, "widgets", ns, "w2", map[string]any{"readyReplicas": int64(1), "phase": "Ready"})
	expect(t, cluster, "mixed", 0, workv1alpha1.ResourceUnhealthy, map[string]any{"readyReplicas": 1.0, "phase": "Rolling"})
	setStatus(t, "widgets", ns, "w1", map[string]any{"readyReplicas": int64(3), "phase": "Ready", "internal": "not-reflected"})
	expect(t, cluster, "mixed", 0, workv1alpha1.ResourceHealthy, map[string]any{"readyReplicas": 3.0, "phase": "Ready"})

	// The failing Gadget: its own entry says why, with health Unknown ...
	testenv.Eventually(t, 60*time.Second, "the Gadget's entry reports both script failures", func() (bool, error) {
		ms, status, err := manifestStatus(t, cluster, "mixed", 1)
		if err != nil {
			return false, err
		}
		reflectErr, _ := status["reflectError"].(string)
		healthErr, _ := status["healthError"].(string)
		if ms.Health != workv1alpha1.ResourceUnknown || !strings.Contains(reflectErr, "ResourceInterpreterCustomization gadgets, statusReflection: ReflectStatus: stopped") ||
			!strings.Contains(healthErr, "ResourceInterpreterCustomization gadgets, healthInterpretation: InterpretHealth: runtime error") {
			return false, fmt.Errorf("Gadget entry: health %s, status %v", ms.Health, status)
		}
		return true, nil
	})
	// ... while the ConfigMap of the same Work and the other Work go on.
	expect(t, cluster, "mixed", 2, workv1alpha1.ResourceHealthy, nil)
	expect(t, cluster, "other", 0, workv1alpha1.ResourceHealthy, map[string]any{"readyReplicas": 1.0, "phase": "Ready"})
	if _, err := memberDynamic(t).Resource(gvr("gadgets")).Namespace(ns).Get(ctx, "g1", metav1.GetOptions{}); err != nil {
		t.Fatalf("the Gadget was not applied: %v", err)
	}

	// An update of the customization on the hub changes the next verdict, with no restart.
	widgetRIC, err = rics.Get(ctx, widgetRIC.Name, metav1.GetOptions{})
	testenv.NoError(t, err)
	widgetRIC.Spec.Customizations.HealthInterpretation.LuaScript = widgetNeverHealthy
	_, err = rics.Update(ctx, widgetRIC, metav1.UpdateOptions{})
	testenv.NoError(t, err)
	expect(t, cluster, "mixed", 0, workv1alpha1.ResourceUnhealthy, map[string]any{"readyReplicas": 3.0, "phase": "Ready"})
	expect(t, cluster, "other", 0, workv1alpha1.ResourceUnhealthy, map[string]any{"readyReplicas": 1.0, "phase": "Ready"})

	// Retention: a member controller scales w1 to 5; a later change of the
	// Work is applied, and w1 keeps 5 replicas instead of the Work's 3.
	res := memberDynamic(t).Resource(gvr("widgets")).Namespace(ns)
	testenv.Eventually(t, 30*time.Second, "the member scales w1", func() (bool, error) {
		obj, err := res.Get(ctx, "w1", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		obj.Object["spec"].(map[string]any)["replicas"] = int64(5)
		_, err = res.Update(ctx, obj, metav1.UpdateOptions{FieldManager: "member-autoscaler"})
		return err == nil, err
	})
	cur, err := works.Get(ctx, "mixed", metav1.GetOptions{})
	testenv.NoError(t, err)
	cur.Spec.Workload.Manifests = work(t, cluster, "mixed",
		custom("Widget", ns, "w1", map[string]any{"replicas": int64(3), "size": "large"}),
		custom("Gadget", ns, "g1", map[string]any{"color": "red"}),
		configMap(ns, "cm")).Spec.Workload.Manifests
	_, err = works.Update(ctx, cur, metav1.UpdateOptions{})
	testenv.NoError(t, err)
	testenv.Eventually(t, 60*time.Second, "w1 has the Work's new size and keeps the member's replicas", func() (bool, error) {
		obj, err := res.Get(ctx, "w1", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		spec := obj.Object["spec"].(map[string]any)
		if spec["size"] != "large" || spec["replicas"] != int64(5) {
			return false, fmt.Errorf("w1 spec %v", spec)
		}
		return true, nil
	})
}

// expect waits until the Work's entry for ordinal has the health and, when
// status is not nil, exactly that reflected status.
func expect(t *testing.T, cluster, name string, ordinal int, health workv1alpha1.ResourceHealth, status map[string]any) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, fmt.Sprintf("Work %s entry %d is %s with status %v", name, ordinal, health, status), func() (bool, error) {
		ms, got, err := manifestStatus(t, cluster, name, ordinal)
		if err != nil {
			return false, err
		}
		if ms.Health != health || (status != nil && !reflect.DeepEqual(got, status)) {
			return false, fmt.Errorf("health %s, status %v", ms.Health, got)
		}
		return true, nil
	})
}
