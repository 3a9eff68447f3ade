package sandbox

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// egressScript fetches URL through the proxy twice: plain HTTP (absolute
// URI) and through a CONNECT tunnel, printing "status body" for each.
const egressScript = `exec /usr/bin/python3 -c '
import os, sys, http.client, urllib.request, urllib.error
host, port = os.environ["TARGET"].split(":")
try:
    r = urllib.request.urlopen("http://%s:%s/plain" % (host, port))
    print("plain", r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print("plain", e.code, "-")
try:
    c = http.client.HTTPConnection("127.0.0.1", 3128)
    c.set_tunnel(host, int(port))
    c.request("GET", "/tunnel")
    r = c.getresponse()
    print("tunnel", r.status, r.read().decode())
except OSError as e:
    print("tunnel", "refused", "-")
print("proxy_env", os.environ.get("HTTPS_PROXY"))
'`

func TestNamespacedEgressProxy(t *testing.T) {
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello"+r.URL.Path)
	}))
	defer host.Close()
	target := strings.TrimPrefix(host.URL, "http://")
	tests := []struct {
		name          string
		allowLoopback bool
		want          []string
	}{
		// Tests only have loopback servers; the loopback ban is lifted to
		// see traffic flow, then checked with the production policy.
		{"reaches", true, []string{"plain 200 hello/plain", "tunnel 200 hello/tunnel", "proxy_env http://" + EgressProxyAddr}},
		{"loopback forbidden", false, []string{"plain 403 -", "tunnel refused -", "proxy_env http://" + EgressProxyAddr}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestRunner(t, NamespacedOptions{EgressProxy: true})
			n.proxy.allowLoopback = tc.allowLoopback
			s := startScript(t, n, Spec{}, egressScript, "TARGET="+target, "NO_PROXY=", "no_proxy=")
			if ex := s.env.Wait(); ex.Code != 0 {
				t.Fatalf("runtime: %v: %s", ex, s.stderr)
			}
			got := strings.Split(strings.TrimSpace(s.stdout.String()), "\n")
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("egress through proxy = %q, want %q (stderr %s)", got, tc.want, s.stderr)
			}
		})
	}
}

func TestEgressProxyPolicy(t *testing.T) {
	p := newEgressProxy(slog.New(slog.DiscardHandler))
	for addr, allowed := range map[string]bool{
		"127.0.0.1:80": false, "[::1]:80": false, "169.254.169.254:80": false, "0.0.0.0:80": false,
		"[::ffff:127.0.0.1]:80": false, "224.0.0.1:80": false, "[fe80::1]:80": false,
		"93.184.216.34:443": true, "10.0.0.5:5432": true, "[2606:4700::1]:443": true,
	} {
		if err := p.checkDial("tcp", addr, nil); (err == nil) != allowed {
			t.Errorf("checkDial(%s) = %v, want allowed=%v", addr, err, allowed)
		}
	}
}
