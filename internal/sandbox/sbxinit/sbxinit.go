//go:build cgo

// Package sbxinit is PID 1 of a namespaced lambdad sandbox.
//
// The init is C (sbxinit.c), compiled by cgo into whichever binary imports
// this package, and run as an ELF constructor before the Go runtime starts
// when the binary is executed as argv[0] == [Argv0] in a new PID namespace
// (internal/sandbox clones /proc/self/exe that way). This choice follows the
// sandbox spike (shared/reference/sandbox.md §4): no Go runtime start-up or
// package init per sandbox (the re-exec'd Go daemon costs ~2.2 ms more), a
// reaper of a few KiB instead of ~0.8 MiB of private memory, per-thread
// credentials handled where they are simple, and no separate helper binary:
// the normal `go build` produces everything (runc's nsexec does the same).
// The cost is that lambdad needs cgo (a C compiler at build time); without
// cgo, [Available] is false and the namespaced sandbox reports that.
//
// It imports only the standard library and C.
package sbxinit

// #cgo CFLAGS: -O2 -Wall
import "C"

// Argv0 is the argv[0] under which the binary acts as sandbox init.
const Argv0 = "lambdad-sbxinit"

// Available reports whether this binary contains the sandbox init.
func Available() bool { return true }
