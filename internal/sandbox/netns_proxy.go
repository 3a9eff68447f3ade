package sandbox

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Egress for namespaced environments. An environment's network namespace
// has only loopback; NAT (veth + iptables/nftables) would need a packet
// filter this daemon does not program and that hosts may not even have. So
// outbound traffic goes through an HTTP proxy that the daemon serves inside
// each environment at EgressProxyAddr (a second listener opened in the
// environment's namespace, like the Runtime API's) and dials out from the
// host's network. Functions see HTTP_PROXY/HTTPS_PROXY (and lowercase) set.
//
// What a function can reach: any TCP host:port through CONNECT (HTTPS and
// other TLS or TCP protocols of proxy-aware clients) and plain HTTP through
// absolute-URI requests; names are resolved by the daemon. What it cannot:
// UDP (including its own DNS lookups), ICMP, clients that ignore proxy
// variables, and — checked on the resolved address at dial time, so DNS
// rebinding does not help — loopback, link-local (cloud metadata),
// unspecified and multicast addresses, i.e. the daemon's own API and other
// environments' proxies stay out of reach.

// EgressProxyAddr is where the egress proxy listens inside an environment.
const EgressProxyAddr = "127.0.0.1:3128"

// egressProxy is the proxy handler shared by every environment of a runner.
type egressProxy struct {
	log    *slog.Logger
	dialer *net.Dialer
	tr     *http.Transport
	srv    *http.Server
	// allowLoopback lets tests reach a loopback server. Never set in
	// production code.
	allowLoopback bool

	mu    sync.Mutex
	conns map[net.Conn]struct{} // hijacked CONNECT tunnels, closed by close
	wg    sync.WaitGroup
}

var errEgressForbidden = errors.New("destination not allowed")

func newEgressProxy(log *slog.Logger) *egressProxy {
	p := &egressProxy{log: log, conns: map[net.Conn]struct{}{}}
	p.dialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: p.checkDial}
	p.tr = &http.Transport{
		DialContext:         p.dialer.DialContext,
		Proxy:               nil,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	return p
}

// checkDial runs on the resolved address just before connect.
func (p *egressProxy) checkDial(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("egress dial %s: %w", address, err)
	}
	ip := ap.Addr().Unmap()
	if (ip.IsLoopback() && !p.allowLoopback) || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return fmt.Errorf("egress dial %s: %w", address, errEgressForbidden)
	}
	return nil
}

// serve serves one environment's proxy listener until it is closed.
func (p *egressProxy) serve(ln net.Listener) {
	err := p.srv.Serve(ln)
	if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
		p.log.Error("egress proxy stopped", "err", err)
	}
}

// close stops serving, closes open tunnels and idle upstream connections,
// and waits for the tunnel goroutines.
func (p *egressProxy) close() error {
	err := p.srv.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	p.tr.CloseIdleConnections()
	return err
}

// hopHeaders are not forwarded (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *egressProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if !r.URL.IsAbs() || r.URL.Scheme != "http" {
		http.Error(w, "egress proxy: only absolute http:// URLs and CONNECT", http.StatusBadRequest)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		p.dialError(w, r, err)
		return
	}
	defer resp.Body.Close()
	for _, h := range hopHeaders {
		resp.Header.Del(h)
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func (p *egressProxy) dialError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errEgressForbidden) {
		http.Error(w, "egress proxy: destination not allowed", http.StatusForbidden)
		return
	}
	p.log.Debug("egress dial failed", "host", r.Host, "err", err)
	http.Error(w, "egress proxy: "+err.Error(), http.StatusBadGateway)
}

func (p *egressProxy) connect(w http.ResponseWriter, r *http.Request) {
	if _, _, err := net.SplitHostPort(r.Host); err != nil {
		http.Error(w, "egress proxy: CONNECT needs host:port", http.StatusBadRequest)
		return
	}
	up, err := p.dialer.DialContext(r.Context(), "tcp", r.Host)
	if err != nil {
		p.dialError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	down, buf, err := rc.Hijack()
	if err != nil {
		up.Close()
		http.Error(w, "egress proxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if _, err := io.WriteString(down, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		up.Close()
		down.Close()
		return
	}
	p.mu.Lock()
	p.conns[down] = struct{}{}
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	p.wg.Go(func() {
		// Both directions; the first to end closes both connections.
		var both sync.WaitGroup
		both.Go(func() {
			io.Copy(up, io.MultiReader(buf.Reader, down))
			up.Close()
			down.Close()
		})
		io.Copy(down, up)
		up.Close()
		down.Close()
		both.Wait()
		p.mu.Lock()
		delete(p.conns, down)
		delete(p.conns, up)
		p.mu.Unlock()
	})
}

// proxyEnv are the variables that point a function's clients at the proxy.
func proxyEnv() []string {
	u := "http://" + EgressProxyAddr
	return []string{"HTTP_PROXY=" + u, "HTTPS_PROXY=" + u, "http_proxy=" + u, "https_proxy=" + u,
		"NO_PROXY=localhost,127.0.0.1", "no_proxy=localhost,127.0.0.1"}
}

// withProxyEnv adds proxyEnv to env unless the function set them itself.
func withProxyEnv(env []string) []string {
	out := env
	for _, kv := range proxyEnv() {
		k, _, _ := strings.Cut(kv, "=")
		set := false
		for _, e := range env {
			if strings.HasPrefix(e, k+"=") {
				set = true
				break
			}
		}
		if !set {
			out = append(out, kv)
		}
	}
	return out
}
