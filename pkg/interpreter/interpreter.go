package interpreter

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"

	configv1alpha1 "github.com/tether-io/tether/pkg/apis/config/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/pkg/interpreter/script"
	"github.com/tether-io/tether/pkg/status/interpret"
)

// Config wires an Interpreter.
type Config struct {
	// Hub reads the customizations; nil runs the built-in rules alone.
	Hub versioned.Interface
	// Access is what the hub identity may do (the zero Set holds everything).
	Access hubaccess.Set
	// Limits are the scripts' budgets (script.Limits defaults).
	Limits script.Limits
	// Recheck is how often an absent or forbidden customization API is
	// tried again (default 1m).
	Recheck time.Duration
	// LogEvery spaces the logs of one failing rule (default 1m).
	LogEvery time.Duration
	// Changed, if set, is told the kinds whose status rules (reflection,
	// health) or retention rules changed, after the initial load too.
	Changed func(status, retention []schema.GroupVersionKind)
}

// Interpreter chains customizations before the built-in rules.
type Interpreter struct {
	cfg    Config
	runner *script.Runner
	logs   *failureLog

	mu    sync.RWMutex
	rules ruleSet
	log   atomic.Pointer[klog.Logger]
}

// New returns an Interpreter with no customizations; Run loads them.
func New(cfg Config) *Interpreter {
	if cfg.Recheck <= 0 {
		cfg.Recheck = time.Minute
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = time.Minute
	}
	return &Interpreter{cfg: cfg, runner: script.NewRunner(cfg.Limits), logs: newFailureLog(cfg.LogEvery), rules: ruleSet{}}
}

func (i *Interpreter) setLogger(l klog.Logger) { i.log.Store(&l) }

func (i *Interpreter) logger() klog.Logger {
	if l := i.log.Load(); l != nil {
		return *l
	}
	return klog.Background()
}

// Load replaces the customizations (Run calls it on every change) and
// tells Config.Changed what changed.
func (i *Interpreter) Load(customizations []*configv1alpha1.ResourceInterpreterCustomization) {
	i.mu.Lock()
	prev := i.rules
	next := buildRules(customizations, prev)
	i.rules = next
	i.mu.Unlock()
	status, retention := changes(prev, next)
	for gvk, kr := range next {
		for op, r := range kr {
			if r.err != nil && !prev[gvk][op].same(r) {
				i.logger().Error(r.err, "A resource interpreter customization does not compile; its objects get this error in their status",
					"customization", r.ric, "rule", op, "kind", gvk.String())
			}
		}
	}
	if i.cfg.Changed != nil && (len(status) > 0 || len(retention) > 0) {
		i.cfg.Changed(status, retention)
	}
}

// lookup returns the rule for obj's kind and op, nil for none.
func (i *Interpreter) lookup(gvk schema.GroupVersionKind, op Operation) *rule {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.rules[gvk][op]
}

// ReflectStatus is the status to report for a live object: the
// customization's statusReflection, else the built-in rule.
func (i *Interpreter) ReflectStatus(obj *unstructured.Unstructured) (*runtime.RawExtension, error) {
	r := i.lookup(obj.GroupVersionKind(), OpReflectStatus)
	if r == nil {
		return interpret.ReflectStatus(obj)
	}
	if r.err != nil {
		return nil, i.failed(r, OpReflectStatus, obj, r.err)
	}
	status, err := i.runner.ReflectStatus(context.Background(), r.prog, obj)
	if err != nil {
		return nil, i.failed(r, OpReflectStatus, obj, err)
	}
	if status == nil {
		return nil, nil
	}
	raw, err := json.Marshal(status)
	if err != nil {
		return nil, i.failed(r, OpReflectStatus, obj, err)
	}
	return &runtime.RawExtension{Raw: raw}, nil
}

// Health judges a live object: the customization's healthInterpretation,
// else the built-in rule. A failed script gives Unknown and the error.
func (i *Interpreter) Health(obj *unstructured.Unstructured) (workv1alpha1.ResourceHealth, error) {
	r := i.lookup(obj.GroupVersionKind(), OpHealth)
	if r == nil {
		return interpret.Health(obj), nil
	}
	if r.err != nil {
		return workv1alpha1.ResourceUnknown, i.failed(r, OpHealth, obj, r.err)
	}
	ok, err := i.runner.InterpretHealth(context.Background(), r.prog, obj)
	switch {
	case err != nil:
		return workv1alpha1.ResourceUnknown, i.failed(r, OpHealth, obj, err)
	case ok:
		return workv1alpha1.ResourceHealthy, nil
	}
	return workv1alpha1.ResourceUnhealthy, nil
}

// Retain returns desired with the values the customization's retention
// keeps from live; desired itself when the kind has no retention rule.
func (i *Interpreter) Retain(desired, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	r := i.lookup(desired.GroupVersionKind(), OpRetain)
	if r == nil {
		return desired, nil
	}
	if r.err != nil {
		return nil, i.failed(r, OpRetain, desired, r.err)
	}
	out, err := i.runner.Retain(context.Background(), r.prog, desired, live)
	if err != nil {
		return nil, i.failed(r, OpRetain, desired, err)
	}
	return out, nil
}

// failed names the customization in err and logs it, at most once per
// LogEvery for the customization and rule.
func (i *Interpreter) failed(r *rule, op Operation, obj *unstructured.Unstructured, err error) error {
	err = fmt.Errorf("ResourceInterpreterCustomization %s, %s: %w", r.ric, op, err)
	if i.logs.due(r.ric+"/"+string(op), time.Now()) {
		i.logger().Info("A resource interpreter customization failed; the object's status reports it (logged once a minute per rule)",
			"kind", obj.GroupVersionKind().String(), "namespace", obj.GetNamespace(), "name", obj.GetName(), "err", err.Error())
	}
	return err
}
