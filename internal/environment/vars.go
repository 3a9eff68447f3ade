package environment

import (
	"sort"
	"strconv"
	"strings"

	"github.com/lambdad/lambdad/internal/sandbox"
)

// reserved are the keys customers may not set (AWS rejects them at
// CreateFunction; here they are silently ignored if they get through).
var reserved = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_REGION": true, "AWS_DEFAULT_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
	"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
	"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// overridable are the platform keys a customer variable replaces.
var overridable = map[string]bool{
	"LANG": true, "PATH": true, "LD_LIBRARY_PATH": true, "TZ": true, "AWS_LAMBDA_LOG_FORMAT": true,
	"AWS_LAMBDA_LOG_LEVEL": true, "AWS_XRAY_CONTEXT_MISSING": true, "AWS_XRAY_DAEMON_ADDRESS": true,
}

// varsInput is what the Lambda environment variables are computed from.
type varsInput struct {
	cfg        *Config
	paths      sandbox.Paths
	runtimeAPI string
	logGroup   string
	logStream  string
	runtimeEnv map[string]string // from runtimes.Launch
}

// lambdaVars computes the runtime's environment exactly as SPEC §2.3:
// platform defaults, then the runtime's own variables, then customer
// variables (which replace only LANG, PATH, LD_LIBRARY_PATH, TZ,
// AWS_LAMBDA_LOG_FORMAT/LEVEL, AWS_XRAY_CONTEXT_MISSING/DAEMON_ADDRESS among
// the keys already set, never reserved keys or keys starting with "_"), then
// the platform's reserved keys.
// _LAMBDA_SERVER_PORT is never set.
func lambdaVars(in varsInput) []string {
	c := in.cfg
	p := in.paths
	m := map[string]string{
		"TZ":                       ":UTC",
		"LANG":                     "en_US.UTF-8",
		"PATH":                     "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:" + p.Opt + "/bin",
		"LD_LIBRARY_PATH":          "/var/lang/lib:/lib64:/usr/lib64:" + p.RuntimeDir + ":" + p.RuntimeDir + "/lib:" + p.TaskRoot + ":" + p.TaskRoot + "/lib:" + p.Opt + "/lib",
		"AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
		"AWS_XRAY_DAEMON_ADDRESS":  "169.254.100.1:2000",
	}
	if p.Tmp != "" && p.Tmp != "/tmp" {
		// Plain mode: /tmp is the host's; point temp files at the private dir.
		m["TMPDIR"] = p.Tmp
	}
	for k, v := range in.runtimeEnv {
		m[k] = v
	}
	for k, v := range c.Env {
		if k == "" || strings.HasPrefix(k, "_") || reserved[k] || strings.ContainsAny(k, "=\x00") || strings.Contains(v, "\x00") {
			continue
		}
		if _, set := m[k]; set && !overridable[k] {
			continue // the runtime's own keys win
		}
		m[k] = v
	}
	for k, v := range map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          in.runtimeAPI,
		"_HANDLER":                        c.Handler,
		"LAMBDA_TASK_ROOT":                p.TaskRoot,
		"LAMBDA_RUNTIME_DIR":              p.RuntimeDir,
		"AWS_LAMBDA_FUNCTION_NAME":        c.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION":     c.Version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(c.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME":       in.logGroup,
		"AWS_LAMBDA_LOG_STREAM_NAME":      in.logStream,
		"AWS_REGION":                      c.Region,
		"AWS_DEFAULT_REGION":              c.Region,
		"AWS_LAMBDA_INITIALIZATION_TYPE":  c.InitType,
		"AWS_ACCESS_KEY_ID":               c.Credentials.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":           c.Credentials.SecretAccessKey,
		"AWS_SESSION_TOKEN":               c.Credentials.SessionToken,
		"_AWS_XRAY_DAEMON_ADDRESS":        "169.254.100.1",
		"_AWS_XRAY_DAEMON_PORT":           "2000",
	} {
		m[k] = v
	}
	// AWS_EXECUTION_ENV only when the runtime defines it (absent for
	// provided.*); a stray one from elsewhere never survives.
	if v, ok := in.runtimeEnv["AWS_EXECUTION_ENV"]; ok {
		m["AWS_EXECUTION_ENV"] = v
	} else {
		delete(m, "AWS_EXECUTION_ENV")
	}
	if c.Handler == "" {
		delete(m, "_HANDLER") // image functions
	}
	delete(m, "_LAMBDA_SERVER_PORT")
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
