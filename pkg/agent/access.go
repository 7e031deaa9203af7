package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/pkg/override"
	"github.com/tether-io/tether/pkg/status/cluster"
)

// hubNeeds are the hub tasks of what the options run.
func hubNeeds(o *Options) hubaccess.Needs {
	mode, _ := override.ParseMode(o.RenderOverrides)
	report := o.Credentials.report()
	return hubaccess.Needs{
		Works:          o.enabled("execution") || o.enabled("workStatus"),
		ClusterStatus:  o.enabled("clusterStatus"),
		Rotation:       o.Rotation.Enabled,
		RenderAlways:   mode == override.ModeAlways,
		EndpointSlices: o.enabled("serviceExport") || o.enabled("endpointsliceCollect"),
		Credentials:    report.Credentials,
		Impersonator:   report.Impersonator,
	}
}

// assessAccess says once what the probed permissions mean: an Info line
// per fallback, one Error line naming everything the agent cannot do and
// the commands that grant it. The report's condition goes on the Cluster.
func assessAccess(ctx context.Context, o *Options, access hubaccess.Set, join *cluster.JoinResult) hubaccess.Report {
	log := klog.FromContext(ctx)
	needs := hubNeeds(o)
	r := hubaccess.Assess(o.ClusterName, access, needs.Tasks())
	if len(join.SpecNotWritten) > 0 {
		r.AddMissing(hubaccess.UpdateClusterSpec, "its fields "+strings.Join(join.SpecNotWritten, ", ")+" differ from the agent's flags")
	}
	for _, f := range r.Fallbacks {
		log.Info("The hub identity lacks a preferred permission; falling back", "task", f.Task.Name,
			"using", fmt.Sprint(f.Using), "missing", fmt.Sprint(f.Task.AnyOf[0]))
	}
	if mode, _ := override.ParseMode(o.RenderOverrides); needs.Works && mode == override.ModeAuto && !access.CanReadPolicies() {
		log.Info("Edge rendering of overrides is off: the hub identity may not list and watch OverridePolicies and ClusterOverridePolicies; " +
			"a Karmada control plane renders them into the Works itself")
	}
	if len(r.Missing) > 0 {
		log.Error(nil, "The agent's hub identity lacks permissions it has no fallback for", "report", r.Message())
	}
	return r
}

// canReportStatus reports whether the Cluster's status can be written at all.
func canReportStatus(access hubaccess.Set) bool {
	return access.Can(hubaccess.WatchCluster) && access.Can(hubaccess.WriteClusterStatus)
}

// warnOnCluster posts a Warning Event on the Cluster, for what cannot be
// said in its status because the status cannot be written.
func warnOnCluster(ctx context.Context, hub kubernetes.Interface, c *clusterv1alpha1.Cluster, reason, message string) error {
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: c.Name + ".", Namespace: metav1.NamespaceDefault},
		InvolvedObject: corev1.ObjectReference{APIVersion: clusterv1alpha1.SchemeGroupVersion.String(), Kind: "Cluster",
			Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion},
		Reason: reason, Message: message, Type: corev1.EventTypeWarning, Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
		Source: corev1.EventSource{Component: "tether-agent", Host: c.Name},
	}
	if _, err := hub.CoreV1().Events(metav1.NamespaceDefault).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("post a Warning Event on Cluster %s: %w", c.Name, err)
	}
	return nil
}
