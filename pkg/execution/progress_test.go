package execution

import (
	"testing"
	"time"
)

func TestStalled(t *testing.T) {
	c := &Controller{}
	t0 := time.Now()
	const limit = 5 * time.Minute
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	if c.Stalled(at(time.Hour), limit) {
		t.Error("an idle controller is stalled")
	}
	c.progress.begin(at(time.Hour)) // the first reconcile after an hour idle
	if c.Stalled(at(time.Hour+time.Minute), limit) {
		t.Error("stalled one minute into the first reconcile after an idle hour")
	}
	c.progress.begin(at(time.Hour + time.Minute))
	c.progress.end(at(time.Hour + 2*time.Minute)) // one of two finishes
	if c.Stalled(at(time.Hour+6*time.Minute), limit) {
		t.Error("stalled 4 minutes after a reconcile finished")
	}
	if !c.Stalled(at(time.Hour+8*time.Minute), limit) {
		t.Error("not stalled 6 minutes after the last reconcile finished, with one under way")
	}
	if c.Stalled(at(time.Hour+8*time.Minute), 0) {
		t.Error("a limit of 0 should disable the check")
	}
	c.progress.end(at(time.Hour + 9*time.Minute))
	if c.Stalled(at(3*time.Hour), limit) {
		t.Error("stalled while idle again")
	}
}
