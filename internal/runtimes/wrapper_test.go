package runtimes

import (
	"reflect"
	"testing"

	"github.com/lambdad/lambdad/internal/runtimeapi"
)

func TestExecWrapper(t *testing.T) {
	t.Parallel()
	l := Launch{Path: "/usr/bin/python3", Args: []string{"/usr/bin/python3", "-B", "/var/runtime/bootstrap.py", "/opt"}, Env: map[string]string{"A": "b"}}
	if got := ExecWrapper(l, ""); !reflect.DeepEqual(got, l) {
		t.Errorf("ExecWrapper(l, \"\") = %+v, want l unchanged", got)
	}
	want := Launch{Path: "/bin/sh", Args: []string{"/bin/sh", "-c", `exec "$0" "$@"`, "/opt/wrapper", "/usr/bin/python3", "-B", "/var/runtime/bootstrap.py", "/opt"}, Env: l.Env}
	if got := ExecWrapper(l, "/opt/wrapper"); !reflect.DeepEqual(got, want) {
		t.Errorf("ExecWrapper = %+v, want %+v", got, want)
	}

	for _, tt := range []struct{ id, handler, want string }{
		{"python3.12", "wrapped.handler", `["wrapper.sh", true]`},
		{"nodejs20.x", "index.handler", `["wrapper.sh",true]`},
	} {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			p := startRuntime(t, procSpec{id: tt.id, taskDir: testdata(t, "wrapper"), handler: tt.handler, wrapper: testdata(t, "wrapper", "wrapper.sh")})
			if ev := p.invoke(invocation{payload: `{}`}); ev.Kind != runtimeapi.EventResponse || string(ev.Body) != tt.want {
				t.Errorf("wrapped runtime = %v %s, want %s", ev.Kind, ev.Body, tt.want)
			}
		})
	}

	t.Run("missing wrapper", func(t *testing.T) {
		t.Parallel()
		// aws-recorded test_lambda_runtime_wrapper_not_found: exit status 127.
		p := startRuntime(t, procSpec{id: "python3.12", taskDir: testdata(t, "wrapper"), handler: "wrapped.handler", wrapper: "/nonexistent/wrapper"})
		if code := p.waitExit(); code != 127 {
			t.Errorf("exit code = %d, want 127", code)
		}
	})
}
