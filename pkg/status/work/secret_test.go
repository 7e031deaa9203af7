package work

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
)

// A Secret manifest without kind fails to decode with an error that quotes
// the manifest (unstructured's decoder does). Neither the manifest status,
// nor the Applied condition, nor the Event built from it may carry its data,
// whoever produced the error.
func TestStatusNeverCarriesManifestContent(t *testing.T) {
	const secret = "c3VwZXItc2VjcmV0LXBhc3N3b3Jk"
	raw := `{"apiVersion":"v1","metadata":{"name":"db","namespace":"ns"},"type":"Opaque","data":{"password":"` + secret + `"}}`
	var u unstructured.Unstructured
	decodeErr := u.UnmarshalJSON([]byte(raw))
	if decodeErr == nil || !strings.Contains(decodeErr.Error(), secret) {
		t.Fatalf("the decoder no longer quotes its input (%v); this test needs another leaking error", decodeErr)
	}
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: "w", Namespace: "ns", UID: "u", Generation: 1},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
			{RawExtension: runtime.RawExtension{Raw: []byte(raw)}},
			{RawExtension: runtime.RawExtension{Raw: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"ns"}}`)}},
		}}}}
	leak := "manifest 1: " + decodeErr.Error()
	applied := &metav1.Condition{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionFalse, Reason: workv1alpha1.ReasonAppliedFailed,
		Message: fmt.Sprintf(workv1alpha1.MessageAppliedFailedFormat, 0, 2, "[manifest 0: "+decodeErr.Error()+", "+leak+"]")}
	w := New(Config{Live: LiveSource(func(id manifest.Identity) member.Answer { return member.Answer{ID: id} })})
	status, _ := w.build(work, ApplyOutcome{Generation: 1, Applied: applied, Results: map[int]manifest.Result{1: {Err: errors.New(leak), Terminal: true}}}, true)

	all, _ := json.Marshal(status)
	if strings.Contains(string(all), secret) {
		t.Errorf("the status carries the Secret's data: %s", all)
	}
	c := status.Conditions[0]
	if !strings.HasPrefix(c.Message, "Failed to apply all manifests (0/2): ") {
		t.Errorf("the Applied message lost its counts: %q", c.Message)
	}
	rec := record.NewFakeRecorder(4)
	announce(rec, work, status)
	if ev := <-rec.Events; strings.Contains(ev, secret) || !strings.Contains(ev, "(0/2)") {
		t.Errorf("the Event = %q", ev)
	}
	// Manifest 0 is decoded by pkg/manifest, whose error says what is wrong
	// without quoting; manifest 1 carries a leaking error from elsewhere,
	// which the writer withholds.
	if got := string(status.ManifestStatuses[0].Status.Raw); !strings.Contains(got, "has no kind") {
		t.Errorf("manifest 0: %s does not say what is wrong", got)
	}
	if got := string(status.ManifestStatuses[1].Status.Raw); !strings.Contains(got, withheldMark) {
		t.Errorf("manifest 1: %s does not say that text was withheld", got)
	}
}
