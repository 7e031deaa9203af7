// Package credentials gives the hub a way into the member when asked to
// (--report-secrets): it keeps, in the member, the ServiceAccounts that
// karmada-agent creates for the control plane (karmada-<C>, bound to the
// ClusterRole karmada-controller-manager:karmada-<C>, for KubeCredentials;
// karmada-impersonator, whose rights the control plane sends itself, for
// KubeImpersonator), issues each a token with the TokenRequest API for a
// bounded lifetime, and hands the tokens and the member's CA bundle to an
// uploader (the hub Secrets <C> and <C>-impersonator, written by
// pkg/status/cluster) again at about 80 % of each token's lifetime.
//
// Nothing here copies the agent's own credentials, and no token is logged:
// Tokens prints as redacted.
//
// # Wiring
//
//	report, err := credentials.Parse(values) // --report-secrets
//	ca, err := credentials.CABundle(memberConfig)
//	r := credentials.NewRefresher(credentials.Config{Cluster: c, Namespace: ns, Member: member,
//		Report: report, CABundle: ca, Lifetime: 7 * 24 * time.Hour, Upload: upload})
//	go r.Run(ctx)
package credentials
