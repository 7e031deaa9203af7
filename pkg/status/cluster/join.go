package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/hubaccess"
)

// Settings are the Cluster spec fields the agent owns. Empty optional fields
// are left as they are on the hub, as karmada-agent does.
type Settings struct {
	// Name is the Cluster's name: a DNS-1123 label of at most 48 characters.
	Name string
	// APIEndpoint is the member's apiserver URL as the hub should see it.
	APIEndpoint string
	// Provider, Region and Zones describe where the member runs.
	Provider string
	Region   string
	Zones    []string
	// ProxyURL is the proxy the hub should use to reach the member.
	ProxyURL string
	// InsecureSkipTLSVerification tells the hub not to verify the member's
	// serving certificate; it is always written.
	InsecureSkipTLSVerification bool
	// SecretRef and ImpersonatorSecretRef point at the hub Secrets of the
	// member credentials the agent reports (--report-secrets); nil leaves
	// the hub's value alone (so the references karmada-agent wrote stay).
	SecretRef, ImpersonatorSecretRef *clusterv1alpha1.LocalSecretReference
}

// JoinConfig is what Join needs.
type JoinConfig struct {
	// Hub is the Karmada clientset acting as the agent's identity.
	Hub karmadaclient.Interface
	// Member reads the kube-system namespace, whose UID is the cluster ID.
	Member kubernetes.Interface
	// Settings are the owned spec fields.
	Settings Settings
	// Credentials, when set, are uploaded to the hub and referenced from
	// spec.secretRef and spec.impersonatorSecretRef. Nil (the default)
	// uploads nothing. The agent sets the references in Settings instead and
	// uploads apart from the join (Credentials.Upload), so that a failure
	// to issue member tokens never holds the join up.
	Credentials *Credentials
	// Access is what the identity may do (the zero Set: everything). An
	// existing Cluster's spec is patched, or updated when the identity may
	// not patch it, or, when it may do neither, left as it is (see
	// JoinResult.SpecNotWritten).
	Access hubaccess.Set
}

// JoinResult is the outcome of Join.
type JoinResult struct {
	// Cluster is the agent's Cluster as the hub holds it after the join.
	Cluster *clusterv1alpha1.Cluster
	// Created is true when this join created the Cluster.
	Created bool
	// IDChecked is true when the agent could list Clusters and so verify
	// that no Cluster of another name holds its ID. A least-privilege
	// identity (its own Cluster only) cannot, and then only the name is
	// checked; see the package documentation.
	IDChecked bool
	// SpecNotWritten names the owned spec fields that differ on the hub
	// but could not be written, because the identity may neither patch nor
	// update its Cluster (a Karmada control plane grants neither). The join
	// succeeds; the caller reports it.
	SpecNotWritten []string
}

// ClashError says that another cluster already holds the name or the ID.
type ClashError struct {
	// Field is "name" or "id".
	Field string
	// Name and ID are what this agent asked for.
	Name, ID string
	// Holder is the Cluster that holds it, and HolderID that Cluster's ID.
	Holder, HolderID string
}

func (e *ClashError) Error() string {
	if e.Field == "name" {
		return fmt.Sprintf("cluster name %q is already registered on the hub by another cluster (id %q; this member's id is %q): choose another --cluster-name or unregister the other cluster", e.Name, e.HolderID, e.ID)
	}
	return fmt.Sprintf("cluster id %q (the UID of this member's kube-system namespace) is already registered on the hub as cluster %q: this member is joined already, unregister %q first", e.ID, e.Holder, e.Holder)
}

// Join creates the agent's Cluster on the hub, or updates the fields it owns
// with a merge patch (an Update where cfg.Access has no patch; neither:
// JoinResult.SpecNotWritten): syncMode Pull, spec.id (the UID of the
// member's kube-system namespace) and the settings. It refuses with a *ClashError
// when a Cluster of that name has another ID, or (when the identity may
// list Clusters) a Cluster of another name has this ID. It never uploads
// member credentials unless cfg.Credentials is set.
func Join(ctx context.Context, cfg JoinConfig) (*JoinResult, error) {
	name := cfg.Settings.Name
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 || len(name) > clusterv1alpha1.MaxClusterNameLength {
		return nil, fmt.Errorf("invalid cluster name %q: a DNS-1123 label of at most %d characters is required", name, clusterv1alpha1.MaxClusterNameLength)
	}
	ns, err := cfg.Member.CoreV1().Namespaces().Get(ctx, metav1.NamespaceSystem, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("read the member's kube-system namespace for the cluster id: %w", err)
	}
	id := string(ns.UID)
	clusters := cfg.Hub.ClusterV1alpha1().Clusters()

	res := &JoinResult{}
	if res.IDChecked, err = checkIDUnused(ctx, cfg.Hub, name, id); err != nil {
		return nil, err
	}
	live, err := clusters.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		live, err = clusters.Create(ctx, desiredCluster(cfg, id), metav1.CreateOptions{})
		if err == nil {
			res.Created = true
		} else if apierrors.IsAlreadyExists(err) {
			live, err = clusters.Get(ctx, name, metav1.GetOptions{})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("join cluster %s: %w", name, err)
	}
	if !res.Created {
		if live, res.SpecNotWritten, err = adopt(ctx, cfg, live, id); err != nil {
			return nil, err
		}
	}
	if cfg.Credentials != nil {
		if err := cfg.Credentials.Upload(ctx, live); err != nil {
			return nil, err
		}
	}
	res.Cluster = live
	return res, nil
}

// adopt checks that the existing Cluster is this member's and writes the
// owned fields that differ: with a merge patch, or an Update when the
// identity may not patch. When it may do neither, it returns the fields it
// left as they are.
func adopt(ctx context.Context, cfg JoinConfig, live *clusterv1alpha1.Cluster, id string) (*clusterv1alpha1.Cluster, []string, error) {
	if live.DeletionTimestamp != nil {
		return nil, nil, fmt.Errorf("join cluster %s: the Cluster is being deleted on the hub; retry once it is gone", live.Name)
	}
	// An empty id is a Cluster written by hand for this member to claim.
	if live.Spec.ID != "" && live.Spec.ID != id {
		return nil, nil, &ClashError{Field: "name", Name: live.Name, ID: id, Holder: live.Name, HolderID: live.Spec.ID}
	}
	patch := ownedSpecPatch(live.Spec, desiredCluster(cfg, id).Spec)
	if len(patch) == 0 {
		return live, nil, nil
	}
	raw, err := json.Marshal(map[string]any{"spec": patch})
	if err != nil {
		return nil, nil, err
	}
	var out *clusterv1alpha1.Cluster
	switch {
	case cfg.Access.Has(hubaccess.ClusterPatch):
		out, err = cfg.Hub.ClusterV1alpha1().Clusters().Patch(ctx, live.Name, types.MergePatchType, raw, metav1.PatchOptions{})
	case cfg.Access.HasAll(hubaccess.ClusterUpdate, hubaccess.ClusterGet):
		out, err = updateSpec(ctx, cfg, live, raw)
	default:
		return live, slices.Sorted(maps.Keys(patch)), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("join cluster %s: write spec: %w", live.Name, err)
	}
	return out, nil, nil
}

// updateSpec makes the merge patch raw to the Cluster with an Update, and
// on a conflict reads the Cluster again and makes it to what it read.
func updateSpec(ctx context.Context, cfg JoinConfig, live *clusterv1alpha1.Cluster, raw []byte) (*clusterv1alpha1.Cluster, error) {
	clusters := cfg.Hub.ClusterV1alpha1().Clusters()
	var out *clusterv1alpha1.Cluster
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := json.Marshal(live)
		if err != nil {
			return err
		}
		if cur, err = jsonpatch.MergePatch(cur, raw); err != nil {
			return err
		}
		next := &clusterv1alpha1.Cluster{}
		if err := json.Unmarshal(cur, next); err != nil {
			return err
		}
		out, err = clusters.Update(ctx, next, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			fresh, gerr := clusters.Get(ctx, live.Name, metav1.GetOptions{})
			if gerr != nil {
				return gerr
			}
			live = fresh
		}
		return err
	})
	return out, err
}

// desiredCluster is the Cluster as the agent would create it.
func desiredCluster(cfg JoinConfig, id string) *clusterv1alpha1.Cluster {
	s := cfg.Settings
	c := &clusterv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: s.Name},
		Spec: clusterv1alpha1.ClusterSpec{
			ID:                          id,
			SyncMode:                    clusterv1alpha1.Pull,
			APIEndpoint:                 s.APIEndpoint,
			Provider:                    s.Provider,
			Region:                      s.Region,
			Zones:                       slices.Clone(s.Zones),
			ProxyURL:                    s.ProxyURL,
			InsecureSkipTLSVerification: s.InsecureSkipTLSVerification,
			SecretRef:                   s.SecretRef,
			ImpersonatorSecretRef:       s.ImpersonatorSecretRef,
		},
	}
	if cfg.Credentials != nil {
		cfg.Credentials.refs(&c.Spec, s.Name)
	}
	return c
}

// ownedSpecPatch is the merge patch of the owned fields of want that differ
// from live; optional fields empty in want are left alone.
func ownedSpecPatch(live, want clusterv1alpha1.ClusterSpec) map[string]any {
	patch := map[string]any{}
	set := func(field string, differs bool, value any) {
		if differs {
			patch[field] = value
		}
	}
	set("id", live.ID != want.ID, want.ID)
	set("syncMode", live.SyncMode != want.SyncMode, want.SyncMode)
	set("insecureSkipTLSVerification", live.InsecureSkipTLSVerification != want.InsecureSkipTLSVerification, want.InsecureSkipTLSVerification)
	for field, v := range map[string][2]string{
		"apiEndpoint": {live.APIEndpoint, want.APIEndpoint},
		"provider":    {live.Provider, want.Provider},
		"region":      {live.Region, want.Region},
		"proxyURL":    {live.ProxyURL, want.ProxyURL},
	} {
		set(field, v[1] != "" && v[0] != v[1], v[1])
	}
	set("zones", len(want.Zones) > 0 && !slices.Equal(live.Zones, want.Zones), want.Zones)
	set("secretRef", want.SecretRef != nil && (live.SecretRef == nil || *live.SecretRef != *want.SecretRef), want.SecretRef)
	set("impersonatorSecretRef", want.ImpersonatorSecretRef != nil &&
		(live.ImpersonatorSecretRef == nil || *live.ImpersonatorSecretRef != *want.ImpersonatorSecretRef), want.ImpersonatorSecretRef)
	return patch
}

// checkIDUnused lists Clusters, page by page, for another Cluster holding
// id. It returns false without an error when the identity may not list
// Clusters (the least-privilege case).
func checkIDUnused(ctx context.Context, hub karmadaclient.Interface, name, id string) (bool, error) {
	opts := metav1.ListOptions{Limit: 100}
	for {
		page, err := hub.ClusterV1alpha1().Clusters().List(ctx, opts)
		if apierrors.IsForbidden(err) {
			klog.FromContext(ctx).Info("Cannot list Clusters on the hub, so only the cluster name is checked for a clash, not the id", "cluster", name, "id", id)
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("join cluster %s: list Clusters to check the id: %w", name, err)
		}
		for _, c := range page.Items {
			if c.Spec.ID == id && c.Name != name {
				return true, &ClashError{Field: "id", Name: name, ID: id, Holder: c.Name, HolderID: id}
			}
		}
		if page.Continue == "" {
			return true, nil
		}
		opts.Continue = page.Continue
	}
}

// IsClash reports whether err is a *ClashError.
func IsClash(err error) bool {
	var clash *ClashError
	return errors.As(err, &clash)
}

// clusterOwnerReference points at the Cluster, as the Lease and the
// credentials Secret reference it.
func clusterOwnerReference(name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: clusterv1alpha1.SchemeGroupVersion.String(),
		Kind:       "Cluster",
		Name:       name,
		UID:        uid,
	}
}

// hasOwner reports whether refs already hold ref.
func hasOwner(refs []metav1.OwnerReference, ref metav1.OwnerReference) bool {
	return slices.ContainsFunc(refs, func(r metav1.OwnerReference) bool {
		return r.APIVersion == ref.APIVersion && r.Kind == ref.Kind && r.Name == ref.Name && r.UID == ref.UID
	})
}
