package runtimes

// ExecWrapper applies AWS_LAMBDA_EXEC_WRAPPER to a managed runtime's start
// command, as AWS's runtime bootstrap scripts do: the wrapper is executed
// with the runtime's command line as its arguments (`exec "$wrapper"
// $RUNTIME_CMD`) and usually ends with `exec "$@"`. It runs through /bin/sh
// so that a missing or non-executable wrapper behaves as on AWS: the runtime
// exits 127 (or 126), which the caller sees as Runtime.ExitError "exit
// status 127".
//
// The environment calls it when the function's variables set
// AWS_LAMBDA_EXEC_WRAPPER and the runtime is a managed one (Launch.Env has
// AWS_EXECUTION_ENV); provided.* runtimes ignore the variable. wrapper is
// the path as seen inside the environment.
func ExecWrapper(l Launch, wrapper string) Launch {
	if wrapper == "" {
		return l
	}
	args := append([]string{"/bin/sh", "-c", `exec "$0" "$@"`, wrapper}, l.Args...)
	return Launch{Path: "/bin/sh", Args: args, Env: l.Env}
}
