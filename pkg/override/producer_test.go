package override

import (
	"encoding/json"
	"os"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

type workCase struct {
	Source   string            `json:"source"`
	Producer string            `json:"producer"`
	Metadata metav1.ObjectMeta `json:"metadata"`
}

func readWorkCases(t *testing.T, path string) []workCase {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []workCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	return cases
}

// Every Work a Karmada control-plane controller writes is recognised, by
// the controller that wrote it, and is not rendered in Auto mode.
func TestControlPlaneWorksAreNotRendered(t *testing.T) {
	for _, c := range readWorkCases(t, "testdata/works/control-plane.json") {
		work := &workv1alpha1.Work{ObjectMeta: c.Metadata}
		name, mark := ControlPlaneProducer(work)
		if name != c.Producer || mark == "" {
			t.Errorf("%s: ControlPlaneProducer = %q (%s), want %q", c.Source, name, mark, c.Producer)
		}
		if ok, why := ShouldRender(ModeAuto, work); ok {
			t.Errorf("%s: rendered in Auto mode (%s)", c.Source, why)
		}
		if ok, _ := ShouldRender(ModeAlways, work); !ok {
			t.Errorf("%s: not rendered in Always mode", c.Source)
		}
	}
}

// Works nobody in the control plane wrote are rendered in Auto mode.
func TestUserWorksAreRendered(t *testing.T) {
	for _, c := range readWorkCases(t, "testdata/works/user.json") {
		work := &workv1alpha1.Work{ObjectMeta: c.Metadata}
		if name, mark := ControlPlaneProducer(work); name != "" {
			t.Errorf("%s: taken for the %s's (%s)", c.Source, name, mark)
		}
		if ok, why := ShouldRender(ModeAuto, work); !ok {
			t.Errorf("%s: not rendered in Auto mode (%s)", c.Source, why)
		}
	}
}
