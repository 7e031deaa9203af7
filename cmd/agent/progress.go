package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress shows the steps of a long operation (register, migrate,
// unregister), which each print one line per step: every line is prefixed
// with the time elapsed since the start, and on a terminal a spinner line
// under the last step counts the seconds until the next one, as kubectl
// plugins do. Lines that start with a blank continue the step above them
// and are indented instead of timed.
type progress struct {
	mu      sync.Mutex
	out     io.Writer
	now     func() time.Time
	start   time.Time
	partial []byte
	// spinner is true on a terminal; drawn is true while its line shows.
	spinner, drawn bool
	frame          int
	stop           chan struct{}
	done           sync.WaitGroup
}

const spinnerFrames = `|/-\`

// newProgress wraps out. The spinner runs when out is a terminal; Close
// stops it and writes any unfinished line.
func newProgress(out io.Writer) *progress {
	p := &progress{out: out, now: time.Now, stop: make(chan struct{})}
	p.start = p.now()
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.spinner = true
		p.done.Add(1)
		go p.spin(100 * time.Millisecond)
	}
	return p
}

func (p *progress) spin(every time.Duration) {
	defer p.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.tick()
		}
	}
}

// tick draws the next frame of the spinner line.
func (p *progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frame = (p.frame + 1) % len(spinnerFrames)
	fmt.Fprintf(p.out, "\r\033[K%c %s", spinnerFrames[p.frame], p.elapsed())
	p.drawn = true
}

func (p *progress) elapsed() string {
	return fmt.Sprintf("%5.1fs", p.now().Sub(p.start).Seconds())
}

// Write prints each complete line of b with its elapsed time, keeping an
// unfinished line for the next Write.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		if err := p.line(p.partial[:i]); err != nil {
			return len(b), err
		}
		p.partial = p.partial[i+1:]
	}
}

func (p *progress) line(l []byte) error {
	if p.drawn {
		fmt.Fprint(p.out, "\r\033[K")
		p.drawn = false
	}
	prefix := "         " // under the time of the step it continues
	if len(l) == 0 || (l[0] != ' ' && l[0] != '\t') {
		prefix = "[" + p.elapsed() + "] "
	}
	_, err := fmt.Fprintf(p.out, "%s%s\n", prefix, l)
	return err
}

// Close stops the spinner, clears its line and writes what is left.
func (p *progress) Close() error {
	if p.spinner {
		close(p.stop)
		p.done.Wait()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.out, "\r\033[K")
		p.drawn = false
	}
	if len(p.partial) > 0 {
		err := p.line(p.partial)
		p.partial = nil
		return err
	}
	return nil
}

// progressOut is where a long operation prints its steps: through a
// progress, unless it is a dry run, whose output is a plan to read or
// copy and stays as it is. The returned func ends the progress.
func progressOut(out io.Writer, dryRun bool) (io.Writer, func()) {
	if dryRun {
		return out, func() {}
	}
	p := newProgress(out)
	return p, func() { _ = p.Close() }
}
