package execution

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// TestSecretWithoutKindDoesNotLeak: a Secret manifest with a typo (no kind)
// fails with a message that names the problem and never its data, in the
// Work status, the Applied condition and the Events.
func TestSecretWithoutKindDoesNotLeak(t *testing.T) {
	member1Agent(t)
	const value = "dG9wLXNlY3JldC1wYXNzd29yZA==" // base64 of a password
	bad := `{"apiVersion":"v1","metadata":{"name":"db","namespace":"default"},"data":{"password":"` + value + `"}}`
	createWork(t, newWork("member1", "leak", manifests(t, bad, configMap("default", "leak-ok", map[string]string{"k": "v"}))))
	w := waitApplied(t, es1, "leak", metav1.ConditionFalse)
	testenv.Eventually(t, time.Minute, "the status lists both manifests", func() (bool, error) {
		w = mustWork(t, es1, "leak")
		return len(w.Status.ManifestStatuses) == 2, nil
	})
	raw, _ := json.Marshal(w.Status)
	if strings.Contains(string(raw), value) || strings.Contains(string(raw), "password") {
		t.Errorf("the Work status carries the Secret's data: %s", raw)
	}
	msg := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied).Message
	if !strings.Contains(msg, "manifest 0 has no kind") {
		t.Errorf("Applied message does not say what is wrong: %s", msg)
	}
	for _, ev := range eventsFor(t, es1, "leak") {
		if strings.Contains(ev.Message, value) || strings.Contains(ev.Message, "password") {
			t.Errorf("Event %s carries the Secret's data: %s", ev.Reason, ev.Message)
		}
	}
	deleteWorkAndWait(t, es1, "leak", memberClient(t, 0).CoreV1().ConfigMaps("default"), "leak-ok")
}
