package sandbox

import (
	"fmt"
	"net"
	"runtime"
	"syscall"
	"unsafe"
)

// RuntimeAPIAddr is where every namespaced environment reaches its Runtime
// API: the same address in each environment's own network namespace.
const RuntimeAPIAddr = "127.0.0.1:9001"

// envNetns is an environment's network namespace: only a loopback device,
// with the Runtime API listener inside it. Nothing else can reach the
// listener (no other namespace has a route to it), and the environment has
// no outbound network. Neither the namespace nor the socket is bound to a
// path: both die with the last reference (this fd, the socket, the
// environment's processes), so a crashed daemon leaks nothing here.
type envNetns struct {
	fd      int // O_RDONLY descriptor of the namespace, passed to the sandbox init
	ln      net.Listener
	proxyLn net.Listener // EgressProxyAddr inside the namespace, or nil
}

// newNetns creates a network namespace with lo up and a listener on
// RuntimeAPIAddr inside it. The work happens on a locked OS thread that
// unshares into the new namespace and is never unlocked: when the goroutine
// returns, Go destroys the thread, so no other goroutine ever runs in the
// wrong namespace. The socket keeps the namespace it was created in.
func newNetns(egress bool) (*envNetns, error) {
	type result struct {
		ns  *envNetns
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: this thread's namespace is tainted.
		ns, err := netnsOnThisThread(egress)
		ch <- result{ns, err}
	}()
	r := <-ch
	return r.ns, r.err
}

func netnsOnThisThread(egress bool) (*envNetns, error) {
	if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("unshare network namespace: %w", err)
	}
	fd, err := syscall.Open("/proc/thread-self/ns/net", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open network namespace: %w", err)
	}
	if err := loopbackUp(); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	ln, err := net.Listen("tcp", RuntimeAPIAddr)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("listen in network namespace: %w", err)
	}
	ns := &envNetns{fd: fd, ln: ln}
	if egress {
		if ns.proxyLn, err = net.Listen("tcp", EgressProxyAddr); err != nil {
			ln.Close()
			syscall.Close(fd)
			return nil, fmt.Errorf("listen for egress proxy in network namespace: %w", err)
		}
	}
	return ns, nil
}

// ifreqFlags is struct ifreq with the ifr_flags member of the union.
type ifreqFlags struct {
	name  [syscall.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// loopbackUp sets IFF_UP on lo in the calling thread's network namespace.
func loopbackUp() error {
	s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	defer syscall.Close(s)
	var ifr ifreqFlags
	copy(ifr.name[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(s), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return fmt.Errorf("bring lo up: get flags: %w", e)
	}
	ifr.flags |= syscall.IFF_UP | syscall.IFF_RUNNING
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(s), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return fmt.Errorf("bring lo up: set flags: %w", e)
	}
	return nil
}

// close releases the daemon's references; the namespace disappears once the
// environment's processes are gone too.
func (n *envNetns) close() error {
	var err error
	if n.ln != nil {
		err = n.ln.Close()
	}
	if n.proxyLn != nil {
		n.proxyLn.Close()
	}
	if n.fd >= 0 {
		syscall.Close(n.fd)
		n.fd = -1
	}
	return err
}

// hostLoopback is the SharedNetwork variant: no namespace, a listener on a
// free host loopback port.
func hostLoopback() (*envNetns, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on host loopback: %w", err)
	}
	return &envNetns{fd: -1, ln: ln}, nil
}
