//go:build !cgo

package sbxinit

// Argv0 is the argv[0] under which the binary acts as sandbox init.
const Argv0 = "lambdad-sbxinit"

// Available reports whether this binary contains the sandbox init; a build
// without cgo does not.
func Available() bool { return false }
