package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// child is a helper process of the bench: the bench binary re-executed in
// one of its roles (echo server, floor-B frontend, lambdad daemon). It
// reports its URL on the first stdout line and exits when its stdin closes.
type child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
}

// startChild re-executes the bench binary with args and waits (≤ timeout)
// for the "URL <url>" line.
func startChild(ctx context.Context, name string, timeout time.Duration, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, stdin: in}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "URL "); ok {
				lines <- u
				break
			}
		}
		io.Copy(io.Discard, out)
		close(lines)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case u, ok := <-lines:
		if !ok {
			c.stop()
			return nil, fmt.Errorf("start %s: exited before reporting its URL", name)
		}
		c.url = u
		return c, nil
	case <-t.C:
	case <-ctx.Done():
	}
	c.stop()
	return nil, fmt.Errorf("start %s: no URL within %v", name, timeout)
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop closes the child's stdin (its signal to shut down) and waits up to
// 30 s before killing it.
func (c *child) stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// waitStdinEOF blocks until the parent closes our stdin (or dies).
func waitStdinEOF() { io.Copy(io.Discard, os.Stdin) }
