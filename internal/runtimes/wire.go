package runtimes

// Environment variables the managed runtimes set (SPEC §2.3).
const (
	envExecutionEnv = "AWS_EXECUTION_ENV" // AWS_Lambda_<runtime id>
	envPythonPath   = "PYTHONPATH"
	envNodePath     = "NODE_PATH"

	executionEnvPrefix = "AWS_Lambda_"
)
