package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedence(t *testing.T) {
	c, err := Parse("serve", []string{"-addr", "127.0.0.1:0", "--runtime", "python3.12=/usr/bin/python3"},
		env(map[string]string{"LAMBDAD_ADDR": "127.0.0.2:0", "LAMBDAD_DATA_DIR": "/tmp/x", "LAMBDAD_KEEP_WARM": "1m"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:0" || c.DataDir != "/tmp/x" || c.KeepWarm != time.Minute || c.Runtimes["python3.12"] != "/usr/bin/python3" {
		t.Errorf("Parse = %+v", c)
	}
	if c.Region != "us-east-1" || c.AccountID != "000000000000" || c.ConcurrencyLimit != 1000 || c.FunctionCPUs != "memory" {
		t.Errorf("defaults lost: %+v", c)
	}
}

func TestValidateReportsEverything(t *testing.T) {
	_, err := Parse("serve", []string{"-addr", "nope", "-account-id", "12", "-isolation", "vm", "-region", "moon", "-function-cpus", "half"}, env(nil))
	if err == nil {
		t.Fatal("Parse accepted invalid flags")
	}
	for _, want := range []string{"addr", "account-id", "isolation", "region", `function-cpus "half": want memory or all`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestRetryDelays(t *testing.T) {
	c, err := Parse("serve", []string{"-async-retry-delays", "10ms,20ms"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.AsyncRetryDelays) != 2 || c.AsyncRetryDelays[1] != 20*time.Millisecond {
		t.Errorf("AsyncRetryDelays = %v", c.AsyncRetryDelays)
	}
}
