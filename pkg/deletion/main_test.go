package deletion

import (
	"testing"

	"github.com/tether-io/tether/test/testenv"
)

// The tests that need apiservers (Blockers on a member, the Work informer on
// a hub) use one hub and one member; the guard's logic needs neither.
func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1, Nodes: 1}) }
