// Package config holds lambdad serve's configuration: one Config struct with
// defaults in code, overridden by LAMBDAD_* environment variables and then by
// command-line flags. Validate reports every problem at once.
//
// It imports only the standard library.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config configures lambdad serve.
type Config struct {
	// Addr is the Lambda API listen address; ":0" picks a free port.
	Addr string
	// DataDir holds the embedded NATS store, code cache and environments.
	DataDir string
	// NATSURL connects to an external NATS (JetStream) instead of the
	// embedded server when non-empty.
	NATSURL string
	// Region and AccountID appear in every ARN.
	Region    string
	AccountID string
	// ConcurrencyLimit is the account's concurrent executions limit.
	ConcurrencyLimit int
	// KeepWarm is how long an idle execution environment stays alive.
	KeepWarm time.Duration
	// FreezeDelay is how long an idle environment keeps running before it
	// is frozen; an invocation arriving sooner skips the freeze/thaw pair.
	// 0 freezes at once, as AWS does.
	FreezeDelay time.Duration
	// MemoryBudgetMB caps the summed MemorySize of live environments; idle
	// ones are evicted LRU beyond it (0 = unlimited).
	MemoryBudgetMB int
	// Isolation is "auto" (namespaced when root and capable, else none),
	// "namespaced" (fail if impossible) or "none" (plain processes).
	Isolation string
	// FunctionNetwork is what namespaced functions reach outside: "proxy"
	// (outbound HTTP/HTTPS through a per-environment egress proxy that
	// refuses loopback, link-local and metadata addresses), "none" (no
	// network beyond the Runtime API) or "host" (the host's network
	// namespace; the Runtime API is then a host loopback port).
	FunctionNetwork string
	// FunctionCPUs is how many CPUs a function's runtime may use: "memory"
	// (MemorySize/1769 rounded up, at least one — Lambda's compute in
	// proportion to memory — on the least used CPUs) or "all".
	FunctionCPUs string
	// Runtimes maps runtime ids to interpreter paths, overriding detection.
	Runtimes map[string]string
	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string
	LogFormat string
	// LogRetention bounds the age of stored function logs.
	LogRetention time.Duration
	// AsyncRetryDelays are the waits before async retries 1 and 2 (AWS:
	// about 1 and 2 minutes); tests shorten them.
	AsyncRetryDelays []time.Duration
	// AsyncQueueBytes caps the durable async queue; beyond it Event
	// invocations get 429.
	AsyncQueueBytes int64
	// AsyncWorkers is the number of concurrent async deliveries.
	AsyncWorkers int
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Addr:             "127.0.0.1:9001",
		DataDir:          ".lambdad",
		Region:           "us-east-1",
		AccountID:        "000000000000",
		ConcurrencyLimit: 1000,
		KeepWarm:         10 * time.Minute,
		FreezeDelay:      time.Millisecond,
		Isolation:        "auto",
		FunctionNetwork:  "proxy",
		FunctionCPUs:     "memory",
		Runtimes:         map[string]string{},
		LogLevel:         "info",
		LogFormat:        "text",
		LogRetention:     7 * 24 * time.Hour,
		AsyncRetryDelays: []time.Duration{time.Minute, 2 * time.Minute},
		AsyncQueueBytes:  1 << 30,
		AsyncWorkers:     64,
	}
}

// Parse builds a Config from defaults, then getenv (LAMBDAD_*), then args.
func Parse(name string, args []string, getenv func(string) string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", envOr(getenv, "LAMBDAD_ADDR", c.Addr), "Lambda API listen address (env LAMBDAD_ADDR); :0 picks a free port")
	fs.StringVar(&c.DataDir, "data-dir", envOr(getenv, "LAMBDAD_DATA_DIR", c.DataDir), "data directory (env LAMBDAD_DATA_DIR)")
	fs.StringVar(&c.NATSURL, "nats-url", envOr(getenv, "LAMBDAD_NATS_URL", c.NATSURL), "external NATS URL instead of the embedded server (env LAMBDAD_NATS_URL)")
	fs.StringVar(&c.Region, "region", envOr(getenv, "LAMBDAD_REGION", c.Region), "region in ARNs (env LAMBDAD_REGION)")
	fs.StringVar(&c.AccountID, "account-id", envOr(getenv, "LAMBDAD_ACCOUNT_ID", c.AccountID), "12-digit account id in ARNs (env LAMBDAD_ACCOUNT_ID)")
	var errs []error
	intEnv := func(key string, def int) int {
		if v := getenv(key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				return def
			}
			return n
		}
		return def
	}
	durEnv := func(key string, def time.Duration) time.Duration {
		if v := getenv(key); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				return def
			}
			return d
		}
		return def
	}
	fs.IntVar(&c.ConcurrencyLimit, "concurrency-limit", intEnv("LAMBDAD_CONCURRENCY_LIMIT", c.ConcurrencyLimit), "account concurrent executions limit")
	fs.DurationVar(&c.KeepWarm, "keep-warm", durEnv("LAMBDAD_KEEP_WARM", c.KeepWarm), "idle environment lifetime")
	fs.DurationVar(&c.FreezeDelay, "freeze-delay", durEnv("LAMBDAD_FREEZE_DELAY", c.FreezeDelay), "idle time before an environment is frozen (0 = at once, as AWS)")
	fs.IntVar(&c.MemoryBudgetMB, "memory-budget", intEnv("LAMBDAD_MEMORY_BUDGET_MB", c.MemoryBudgetMB), "MB of environments kept before LRU eviction (0 = unlimited)")
	fs.StringVar(&c.Isolation, "isolation", envOr(getenv, "LAMBDAD_ISOLATION", c.Isolation), "auto, namespaced or none")
	fs.StringVar(&c.FunctionNetwork, "function-network", envOr(getenv, "LAMBDAD_FUNCTION_NETWORK", c.FunctionNetwork), "namespaced functions' network: proxy, none or host")
	fs.StringVar(&c.FunctionCPUs, "function-cpus", envOr(getenv, "LAMBDAD_FUNCTION_CPUS", c.FunctionCPUs), "CPUs a function may use: memory (one per 1769 MB, as Lambda) or all")
	fs.StringVar(&c.LogLevel, "log-level", envOr(getenv, "LAMBDAD_LOG_LEVEL", c.LogLevel), "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", envOr(getenv, "LAMBDAD_LOG_FORMAT", c.LogFormat), "text or json")
	fs.DurationVar(&c.LogRetention, "log-retention", durEnv("LAMBDAD_LOG_RETENTION", c.LogRetention), "maximum age of stored function logs")
	fs.Int64Var(&c.AsyncQueueBytes, "async-queue-bytes", int64(intEnv("LAMBDAD_ASYNC_QUEUE_BYTES", int(c.AsyncQueueBytes))), "byte cap of the durable async queue")
	fs.IntVar(&c.AsyncWorkers, "async-workers", intEnv("LAMBDAD_ASYNC_WORKERS", c.AsyncWorkers), "concurrent async deliveries")
	delays := envOr(getenv, "LAMBDAD_ASYNC_RETRY_DELAYS", "")
	fs.StringVar(&delays, "async-retry-delays", delays, "comma-separated waits before async retries 1 and 2 (default 1m,2m)")
	if v := getenv("LAMBDAD_RUNTIMES"); v != "" {
		for _, kv := range strings.Split(v, ",") {
			if err := setRuntime(c.Runtimes, kv); err != nil {
				errs = append(errs, fmt.Errorf("LAMBDAD_RUNTIMES: %w", err))
			}
		}
	}
	fs.Func("runtime", "runtime=interpreter override, e.g. python3.12=/usr/bin/python3.12 (repeatable)", func(s string) error {
		return setRuntime(c.Runtimes, s)
	})
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if delays != "" {
		c.AsyncRetryDelays = nil
		for _, s := range strings.Split(delays, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil {
				errs = append(errs, fmt.Errorf("async-retry-delays: %w", err))
				continue
			}
			c.AsyncRetryDelays = append(c.AsyncRetryDelays, d)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func setRuntime(m map[string]string, kv string) error {
	id, path, ok := strings.Cut(strings.TrimSpace(kv), "=")
	if !ok || id == "" || path == "" {
		return fmt.Errorf("runtime override %q: want id=/path/to/interpreter", kv)
	}
	m[id] = path
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

var reAccount = regexp.MustCompile(`^\d{12}$`)
var reRegion = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`)

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: %w", c.Addr, err))
	}
	if c.DataDir == "" && c.NATSURL == "" {
		errs = append(errs, errors.New("data-dir must not be empty"))
	}
	if !reAccount.MatchString(c.AccountID) {
		errs = append(errs, fmt.Errorf("account-id %q: want 12 digits", c.AccountID))
	}
	if !reRegion.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("region %q: not a region name like us-east-1", c.Region))
	}
	if c.ConcurrencyLimit < 1 {
		errs = append(errs, fmt.Errorf("concurrency-limit %d: must be at least 1", c.ConcurrencyLimit))
	}
	if c.KeepWarm <= 0 {
		errs = append(errs, fmt.Errorf("keep-warm %s: must be positive", c.KeepWarm))
	}
	if c.FreezeDelay < 0 || c.FreezeDelay > time.Second {
		errs = append(errs, fmt.Errorf("freeze-delay %s: want 0 to 1s", c.FreezeDelay))
	}
	if c.MemoryBudgetMB < 0 {
		errs = append(errs, fmt.Errorf("memory-budget %d: must not be negative", c.MemoryBudgetMB))
	}
	switch c.Isolation {
	case "auto", "namespaced", "none":
	default:
		errs = append(errs, fmt.Errorf("isolation %q: want auto, namespaced or none", c.Isolation))
	}
	switch c.FunctionNetwork {
	case "proxy", "none", "host":
	default:
		errs = append(errs, fmt.Errorf("function-network %q: want proxy, none or host", c.FunctionNetwork))
	}
	switch c.FunctionCPUs {
	case "memory", "all":
	default:
		errs = append(errs, fmt.Errorf("function-cpus %q: want memory or all", c.FunctionCPUs))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log-format %q: want text or json", c.LogFormat))
	}
	if c.AsyncWorkers < 1 {
		errs = append(errs, fmt.Errorf("async-workers %d: must be at least 1", c.AsyncWorkers))
	}
	if c.AsyncQueueBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("async-queue-bytes %d: must be at least 1 MiB", c.AsyncQueueBytes))
	}
	return errors.Join(errs...)
}
