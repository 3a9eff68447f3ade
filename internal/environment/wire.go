package environment

// Lambda error types and messages the caller of Invoke sees (SPEC §2.7).
const (
	functionErrorUnhandled = "Unhandled"

	errSandboxTimedout      = "Sandbox.Timedout"
	errSandboxFailure       = "Sandbox.Failure"
	errRuntimeExitError     = "Runtime.ExitError"
	errRuntimeOutOfMemory   = "Runtime.OutOfMemory"
	errRuntimeInitError     = "Runtime.InitError"
	errInvalidEntrypoint    = "Runtime.InvalidEntrypoint"
	errResponseSizeTooLarge = "Function.ResponseSizeTooLarge"

	msgResponseTooLarge = "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
)
