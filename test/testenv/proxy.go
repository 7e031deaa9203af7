package testenv

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a TCP proxy on 127.0.0.1 that forwards every connection to a
// target, to cut the network between an agent and an apiserver. It passes
// bytes through untouched, so TLS ends at the target: the testenv
// apiservers' certificates are valid for 127.0.0.1, and a kubeconfig whose
// server is URL() works as one pointing at the apiserver.
type Proxy struct {
	target string
	ln     net.Listener

	mu    sync.Mutex
	state proxyState
	conns map[*proxyConn]struct{}

	accepted, refused atomic.Int64
	wg                sync.WaitGroup
}

type proxyState int

const (
	proxyOpen      proxyState = iota
	proxyCut                  // connections are closed at once
	proxyBlackhole            // connections stay open, nothing is forwarded
)

type proxyConn struct {
	client, upstream net.Conn
	once             sync.Once
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		_ = c.client.Close()
		if c.upstream != nil {
			_ = c.upstream.Close()
		}
	})
}

// NewProxy listens on a free port of 127.0.0.1 and forwards to target
// ("host:port", or a URL such as a Cluster's URL).
func NewProxy(target string) (*Proxy, error) {
	if host, err := hostPort(target); err == nil {
		target = host
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy to %s: %w", target, err)
	}
	p := &Proxy{target: target, ln: ln, conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is "https://" + Addr(), the server of a kubeconfig through the proxy.
func (p *Proxy) URL() string { return "https://" + p.Addr() }

// Accepted is the number of connections accepted, including those closed
// at once because the proxy was cut.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Refused is the number of connections closed at once because the proxy
// was cut.
func (p *Proxy) Refused() int64 { return p.refused.Load() }

// Active is the number of connections open now.
func (p *Proxy) Active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Cut closes every open connection, and closes each new one as soon as it
// is accepted, until Restore: the peer sees a reset link.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.state = proxyCut
	conns := p.takeConns()
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Blackhole keeps every connection open but forwards nothing, in either
// direction, until Restore: the peer sees a silent link and must rely on
// its own timeouts. Restore closes the connections that were black-holed
// (bytes were lost, so their streams are broken).
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	p.state = proxyBlackhole
	p.mu.Unlock()
}

// Restore forwards new connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	var stale []*proxyConn
	if p.state == proxyBlackhole {
		stale = p.takeConns()
	}
	p.state = proxyOpen
	p.mu.Unlock()
	for _, c := range stale {
		c.close()
	}
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

// takeConns empties the connection set; p.mu is held.
func (p *Proxy) takeConns() []*proxyConn {
	out := make([]*proxyConn, 0, len(p.conns))
	for c := range p.conns {
		out = append(out, c)
	}
	clear(p.conns)
	return out
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.accepted.Add(1)
		p.mu.Lock()
		cut := p.state == proxyCut
		p.mu.Unlock()
		if cut {
			p.refused.Add(1)
			_ = client.Close()
			continue
		}
		p.wg.Add(1)
		go p.forward(client)
	}
}

func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	c := &proxyConn{client: client}
	upstream, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		c.close()
		return
	}
	c.upstream = upstream
	p.mu.Lock()
	if p.state == proxyCut {
		p.mu.Unlock()
		c.close()
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.pipe(upstream, client); done <- struct{}{} }()
	go func() { p.pipe(client, upstream); done <- struct{}{} }()
	<-done
	c.close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// pipe copies src to dst, dropping what it reads while the proxy is black-holed.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			drop := p.state == proxyBlackhole
			p.mu.Unlock()
			if !drop {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil { // EOF or a closed connection: forward() closes both ends
			return
		}
	}
}

// hostPort returns the host:port of a URL such as "https://127.0.0.1:6443".
func hostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL with a host", raw)
	}
	return u.Host, nil
}
