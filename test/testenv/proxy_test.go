package testenv

import (
	"bufio"
	"errors"
	"net"
	"testing"
	"time"
)

// echoServer answers every line with the same line, until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

type echoClient struct {
	c net.Conn
	r *bufio.Reader
}

func dialEcho(t *testing.T, addr string) *echoClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &echoClient{c: c, r: bufio.NewReader(c)}
}

// roundTrip sends a line and reads the answer, with a deadline.
func (e *echoClient) roundTrip(line string, timeout time.Duration) (string, error) {
	_ = e.c.SetDeadline(time.Now().Add(timeout))
	if _, err := e.c.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	got, err := e.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return got[:len(got)-1], nil
}

func TestProxyForwardsCutsAndRestores(t *testing.T) {
	p, err := NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if want := "https://" + p.Addr(); p.URL() != want {
		t.Errorf("URL() = %s, want %s", p.URL(), want)
	}

	a := dialEcho(t, p.Addr())
	if got, err := a.roundTrip("one", 5*time.Second); err != nil || got != "one" {
		t.Fatalf("through the proxy: got %q, %v", got, err)
	}
	Eventually(t, 5*time.Second, "one active connection", func() (bool, error) { return p.Active() == 1, nil })

	p.Cut()
	if _, err := a.roundTrip("two", 5*time.Second); err == nil {
		t.Fatal("an open connection still answers after Cut")
	} else if isTimeout(err) {
		t.Fatalf("an open connection hangs after Cut instead of closing: %v", err)
	}
	b := dialEcho(t, p.Addr()) // the listener stays, so the dial succeeds
	if _, err := b.roundTrip("three", 5*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("a new connection during Cut: want it closed, got %v", err)
	}
	if p.Refused() != 1 || p.Accepted() != 2 {
		t.Errorf("accepted %d refused %d, want 2 and 1", p.Accepted(), p.Refused())
	}

	p.Restore()
	c := dialEcho(t, p.Addr())
	if got, err := c.roundTrip("four", 5*time.Second); err != nil || got != "four" {
		t.Fatalf("after Restore: got %q, %v", got, err)
	}
	if p.Accepted() != 3 {
		t.Errorf("accepted %d, want 3", p.Accepted())
	}
}

func TestProxyBlackholeIsSilent(t *testing.T) {
	p, err := NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	a := dialEcho(t, p.Addr())
	if _, err := a.roundTrip("one", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Blackhole()
	if _, err := a.roundTrip("two", 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("black-holed connection: want a timeout, got %v", err)
	}
	p.Restore()
	// The black-holed connection lost bytes: Restore closes it.
	if _, err := a.roundTrip("three", 5*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("black-holed connection after Restore: want it closed, got %v", err)
	}
	b := dialEcho(t, p.Addr())
	if got, err := b.roundTrip("four", 5*time.Second); err != nil || got != "four" {
		t.Fatalf("after Restore: got %q, %v", got, err)
	}
}

func TestProxyClose(t *testing.T) {
	p, err := NewProxy("https://" + echoServer(t)) // a URL works as a target too
	if err != nil {
		t.Fatal(err)
	}
	a := dialEcho(t, p.Addr())
	if got, err := a.roundTrip("one", 5*time.Second); err != nil || got != "one" {
		t.Fatalf("through the proxy to a URL target: got %q, %v", got, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.roundTrip("two", 5*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("after Close: want the connection closed, got %v", err)
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("the proxy still listens after Close")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
