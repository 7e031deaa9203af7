package agent

import (
	"context"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-io/tether/pkg/execution"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/pkg/interpreter"
)

// customizations runs the hub's ResourceInterpreterCustomizations for the
// Work controller: it interprets status, health and retention, and tells
// the controller which kinds to re-evaluate when a customization changes.
type customizations struct {
	interp *interpreter.Interpreter
	ctrl   atomic.Pointer[execution.Controller]
}

func newCustomizations(c *clients, access hubaccess.Set) *customizations {
	cu := &customizations{}
	cu.interp = interpreter.New(interpreter.Config{Hub: c.hubKarmada, Access: access,
		Changed: func(status, retention []schema.GroupVersionKind) {
			if ctrl := cu.ctrl.Load(); ctrl != nil {
				ctrl.Reinterpret(status, retention)
			}
		}})
	return cu
}

// wire sets the controller's interpreters: customizations first, then the built-in rules.
func (cu *customizations) wire(cfg *execution.Config) {
	cfg.Reflect, cfg.Health, cfg.Retain = cu.interp.ReflectStatus, cu.interp.Health, cu.interp.Retain
}

// run follows the customizations for ctrl until ctx ends.
func (cu *customizations) run(ctrl *execution.Controller) func(ctx context.Context) error {
	cu.ctrl.Store(ctrl)
	return cu.interp.Run
}
