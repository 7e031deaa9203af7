package cluster

import (
	"testing"

	"github.com/tether-io/tether/test/testenv"
)

// The heartbeat's tests use a real hub (its garbage collector deletes the
// Lease of a deleted Cluster); the other tests need no apiserver.
func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{HubOnly: true}) }
