package crds

import (
	"context"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
)

// Install creates or updates Tether's CRDs on the cluster cfg points at and
// waits until they are Established.
func Install(ctx context.Context, cfg *rest.Config, timeout time.Duration) error {
	cs, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	all, err := All()
	if err != nil {
		return err
	}
	client := cs.ApiextensionsV1().CustomResourceDefinitions()
	names := make([]string, 0, len(all))
	for _, crd := range all {
		names = append(names, crd.Name)
		_, err := client.Create(ctx, crd, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			live, gerr := client.Get(ctx, crd.Name, metav1.GetOptions{})
			if gerr != nil {
				return gerr
			}
			crd.ResourceVersion = live.ResourceVersion
			_, err = client.Update(ctx, crd, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("install CustomResourceDefinition %s: %w", crd.Name, err)
		}
	}
	return WaitEstablished(ctx, cs, names, timeout)
}

// WaitEstablished waits until every named CRD is Established.
func WaitEstablished(ctx context.Context, cs apiextensionsclient.Interface, names []string, timeout time.Duration) error {
	var pending string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for _, name := range names {
			live, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
			if err != nil || !Established(live) {
				pending = name
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("CustomResourceDefinition %s is not Established: %w", pending, err)
	}
	return nil
}

// Established reports whether crd's Established condition is True.
func Established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}
