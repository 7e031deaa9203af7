package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	bootstrapsecrets "k8s.io/cluster-bootstrap/util/secrets"

	"github.com/tether-io/tether/pkg/bootstrap"
)

// TokenOptions shape a bootstrap token (karmadactl token create's flags).
type TokenOptions struct {
	// TTL is the token's lifetime; 0 never expires.
	TTL time.Duration
	// Description is stored with the token.
	Description string
	// Usages are the token usages (default signing, authentication).
	Usages []string
	// Groups are the token's extra groups (default DefaultTokenGroup).
	Groups []string
	// Cluster binds the token to one cluster name (Tether's approver
	// issues only that cluster's identity for it); empty binds nothing.
	Cluster string
}

// Validate checks the options; errors name the flag.
func (o *TokenOptions) Validate() error {
	var errs []error
	if o.TTL < 0 {
		errs = append(errs, fmt.Errorf("--ttl=%s must not be negative (0 means the token never expires)", o.TTL))
	}
	if err := bootstraputil.ValidateUsages(o.Usages); err != nil {
		errs = append(errs, fmt.Errorf("--usages: %w", err))
	}
	for _, g := range o.Groups {
		if err := bootstraputil.ValidateBootstrapGroupName(g); err != nil {
			errs = append(errs, fmt.Errorf("--groups: %w", err))
		}
	}
	if o.Cluster != "" {
		if err := ValidateClusterName(o.Cluster); err != nil {
			errs = append(errs, fmt.Errorf("--cluster-name: %w", err))
		}
	}
	return errors.Join(errs...)
}

// TokenInfo describes an existing token without its secret.
type TokenInfo struct {
	ID          string
	Expires     *time.Time
	Usages      []string
	Groups      []string
	Description string
	Cluster     string
}

// CreateToken creates a bootstrap token Secret in kube-system with
// Karmada's layout and returns the token "<id>.<secret>".
func CreateToken(ctx context.Context, cs kubernetes.Interface, o TokenOptions) (string, error) {
	if len(o.Usages) == 0 {
		o.Usages = []string{"signing", "authentication"}
	}
	if len(o.Groups) == 0 {
		o.Groups = []string{DefaultTokenGroup}
	}
	if err := o.Validate(); err != nil {
		return "", err
	}
	token, err := bootstraputil.GenerateBootstrapToken()
	if err != nil {
		return "", err
	}
	id, secret, _ := strings.Cut(token, ".")
	data := map[string]string{
		bootstrapapi.BootstrapTokenIDKey:          id,
		bootstrapapi.BootstrapTokenSecretKey:      secret,
		bootstrapapi.BootstrapTokenExtraGroupsKey: strings.Join(o.Groups, ","),
	}
	if o.TTL > 0 {
		data[bootstrapapi.BootstrapTokenExpirationKey] = time.Now().Add(o.TTL).UTC().Format(time.RFC3339)
	}
	if o.Description != "" {
		data[bootstrapapi.BootstrapTokenDescriptionKey] = o.Description
	}
	for _, u := range o.Usages {
		data[bootstrapapi.BootstrapTokenUsagePrefix+u] = "true"
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: bootstraputil.BootstrapTokenSecretName(id), Namespace: metav1.NamespaceSystem},
		Type:       bootstrapapi.SecretTypeBootstrapToken,
		StringData: data,
	}
	if o.Cluster != "" {
		s.Annotations = map[string]string{TokenClusterAnnotation: o.Cluster}
	}
	if _, err := cs.CoreV1().Secrets(metav1.NamespaceSystem).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("create Secret kube-system/%s for the token: %w", s.Name, err)
	}
	return token, nil
}

// ListTokens lists the bootstrap tokens; secrets are not returned.
func ListTokens(ctx context.Context, cs kubernetes.Interface) ([]TokenInfo, error) {
	list, err := cs.CoreV1().Secrets(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("type", string(bootstrapapi.SecretTypeBootstrapToken)).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("list bootstrap token Secrets in kube-system: %w", err)
	}
	var out []TokenInfo
	for i := range list.Items {
		s := &list.Items[i]
		id := bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenIDKey)
		if !bootstraputil.IsValidBootstrapTokenID(id) {
			continue
		}
		info := TokenInfo{ID: id, Description: bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenDescriptionKey), Cluster: s.Annotations[TokenClusterAnnotation]}
		if exp := bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenExpirationKey); exp != "" {
			if t, err := time.Parse(time.RFC3339, exp); err == nil {
				info.Expires = &t
			}
		}
		for k, v := range s.Data {
			if u, ok := strings.CutPrefix(k, bootstrapapi.BootstrapTokenUsagePrefix); ok && string(v) == "true" {
				info.Usages = append(info.Usages, u)
			}
		}
		slices.Sort(info.Usages)
		info.Groups, _ = bootstrapsecrets.GetGroups(s)
		out = append(out, info)
	}
	return out, nil
}

// DeleteToken deletes the token given by its ID or the whole token.
func DeleteToken(ctx context.Context, cs kubernetes.Interface, idOrToken string) (string, error) {
	id, _, _ := strings.Cut(idOrToken, ".")
	if !bootstraputil.IsValidBootstrapTokenID(id) {
		return "", fmt.Errorf("%q is neither a token ID ([a-z0-9]{6}) nor a token: see 'tether-agent token list'", redact(idOrToken))
	}
	name := bootstraputil.BootstrapTokenSecretName(id)
	err := cs.CoreV1().Secrets(metav1.NamespaceSystem).Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return id, fmt.Errorf("token %s does not exist (no Secret kube-system/%s): see 'tether-agent token list'", id, name)
	}
	if err != nil {
		return id, fmt.Errorf("delete Secret kube-system/%s: %w", name, err)
	}
	return id, nil
}

// redact keeps the part of a possible token before its secret.
func redact(s string) string {
	if id, _, ok := strings.Cut(s, "."); ok {
		return id + ".<redacted>"
	}
	return s
}

// RegisterCommand is the command a member runs to join: "<parent> register
// <host:port> --token <token> --discovery-token-ca-cert-hash sha256:<hex>,…"
// with one hash per CA certificate in caData, server being the hub's URL.
func RegisterCommand(parent, server, token string, caData []byte, cluster string) (string, error) {
	certs, err := certutil.ParseCertsPEM(caData)
	if err != nil {
		return "", fmt.Errorf("parse the hub CA from the kubeconfig: %w", err)
	}
	hashes := make([]string, len(certs))
	for i, c := range certs {
		hashes[i] = bootstrap.CACertHash(c)
	}
	endpoint := strings.TrimPrefix(server, "https://")
	cmd := fmt.Sprintf("%s register %s --token %s --discovery-token-ca-cert-hash %s", parent, endpoint, token, strings.Join(hashes, ","))
	if cluster != "" {
		cmd += " --cluster-name " + cluster
	}
	return cmd, nil
}

// WaitSigned waits until the hub's bootstrapsigner has signed cluster-info
// for the token ID, so that a register command printed now works at once.
func WaitSigned(ctx context.Context, cs kubernetes.Interface, tokenID string, timeout time.Duration) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		cm, err := cs.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		_, ok := cm.Data[bootstrapapi.JWSSignatureKeyPrefix+tokenID]
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("kube-public/cluster-info is not signed for token %s after %s: is the bootstrapsigner controller running in the hub's kube-controller-manager?", tokenID, timeout)
	}
	return nil
}
