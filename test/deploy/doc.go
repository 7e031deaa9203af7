// Package deploy tests the installation artefacts under deploy/: the Helm
// charts and kustomize bases render, apply (server-side, dry run) to real
// apiservers, match the objects 'tether-agent register' and 'hub init'
// create, and install a working agent.
package deploy
