package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeClock advances by step at each reading.
func fakeClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(step); return t }
}

func TestProgressTimesEachStep(t *testing.T) {
	var out bytes.Buffer
	p := &progress{out: &out, now: fakeClock(1500 * time.Millisecond)}
	p.start = p.now()
	fmt.Fprintf(p, "[preflight] ok\n[discovery] hub ")
	fmt.Fprintf(p, "verified\n  Note: a continuation\n")
	fmt.Fprintf(p, "unfinished")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"[  1.5s] [preflight] ok\n" +
		"[  3.0s] [discovery] hub verified\n" +
		"           Note: a continuation\n" +
		"[  4.5s] unfinished\n"
	if out.String() != want {
		t.Errorf("progress printed:\n%q\nwant:\n%q", out.String(), want)
	}
}

func TestProgressSpinnerIsClearedBeforeEachLine(t *testing.T) {
	var out bytes.Buffer
	p := &progress{out: &out, now: fakeClock(time.Second), spinner: false}
	p.start = p.now()
	p.tick()
	p.tick()
	fmt.Fprintln(p, "[member] created")
	p.tick()
	_ = p.Close()
	got := out.String()
	// Each frame redraws the spinner line in place; a step line first
	// clears it, and Close clears the last one.
	parts := strings.Split(got, "\r\033[K")
	if len(parts) != 6 || parts[1] != "/   1.0s" || parts[2] != "-   2.0s" || parts[3] != "[  3.0s] [member] created\n" || parts[4] != "\\   4.0s" || parts[5] != "" {
		t.Errorf("spinner output %q", got)
	}
}

func TestProgressLeavesDryRunsAlone(t *testing.T) {
	var out bytes.Buffer
	w, done := progressOut(&out, true)
	fmt.Fprintln(w, "kind: Deployment")
	done()
	if out.String() != "kind: Deployment\n" {
		t.Errorf("dry run output %q, want it unchanged", out.String())
	}
	out.Reset()
	w, done = progressOut(&out, false)
	fmt.Fprintln(w, "[preflight] ok")
	done()
	if !strings.HasPrefix(out.String(), "[") || !strings.HasSuffix(out.String(), "s] [preflight] ok\n") {
		t.Errorf("progress output %q, want the step with its elapsed time", out.String())
	}
}
