package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lambdad/lambdad/sdk/client"
)

// clientFlags adds --endpoint to fs and returns a constructor of the client.
func clientFlags(fs *flag.FlagSet, getenv func(string) string) func() *client.Client {
	def := getenv("LAMBDAD_ENDPOINT")
	if def == "" {
		def = "http://127.0.0.1:9001"
	}
	ep := fs.String("endpoint", def, "lambdad API endpoint (env LAMBDAD_ENDPOINT)")
	return func() *client.Client { return client.New(*ep) }
}

// parseArgs parses flags given before or after positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

type kvFlag map[string]string

func (k kvFlag) String() string { return "" }
func (k kvFlag) Set(s string) error {
	key, v, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	k[key] = v
	return nil
}

// loadCode returns zip bytes from a .zip file or zips a directory.
func loadCode(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return os.ReadFile(path)
	}
	return zipDir(path)
}

// zipDir zips a directory deterministically: sorted entries, fixed times,
// modes 0644 or 0755, so unchanged code keeps its CodeSha256.
func zipDir(root string) ([]byte, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range files {
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		h := &zip.FileHeader{Name: filepath.ToSlash(rel), Method: zip.Deflate}
		h.Modified = zipEpoch
		mode := os.FileMode(0o644)
		if fi.Mode()&0o111 != 0 {
			mode = 0o755
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(w, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func runCreate(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad create", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	newClient := clientFlags(fs, getenv)
	runtime := fs.String("runtime", "", "runtime id, e.g. python3.12, nodejs20.x, provided.al2023 (required)")
	handler := fs.String("handler", "", "handler, e.g. lambda_function.lambda_handler (required)")
	code := fs.String("code", "", "directory or .zip with the code (required)")
	memory := fs.Int("memory", 0, "memory size in MB (default 128)")
	timeout := fs.Int("timeout", 0, "timeout in seconds (default 3)")
	env := kvFlag{}
	fs.Var(env, "env", "environment variable KEY=VALUE (repeatable)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *runtime == "" || *handler == "" || *code == "" {
		fmt.Fprintln(stdio.Err, "usage: lambdad create NAME --runtime R --handler H --code DIR|ZIP [--memory MB] [--timeout S] [--env K=V]")
		return errUsage
	}
	zip, err := loadCode(*code)
	if err != nil {
		return fmt.Errorf("code: %w", err)
	}
	c := newClient()
	in := client.CreateFunctionInput{FunctionName: pos[0], Runtime: *runtime, Handler: *handler, ZipFile: zip, MemorySize: *memory, Timeout: *timeout}
	if len(env) > 0 {
		in.Environment = env
	}
	if _, err := c.CreateFunction(ctx, in); err != nil {
		return err
	}
	cfg, err := c.WaitActive(ctx, pos[0])
	if err != nil {
		return err
	}
	return printJSON(stdio.Out, cfg)
}

func runUpdateCode(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad update-code", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	newClient := clientFlags(fs, getenv)
	code := fs.String("code", "", "directory or .zip with the code (required)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *code == "" {
		fmt.Fprintln(stdio.Err, "usage: lambdad update-code NAME --code DIR|ZIP")
		return errUsage
	}
	zip, err := loadCode(*code)
	if err != nil {
		return fmt.Errorf("code: %w", err)
	}
	c := newClient()
	if _, err := c.UpdateFunctionCode(ctx, pos[0], client.UpdateFunctionCodeInput{ZipFile: zip}); err != nil {
		return err
	}
	cfg, err := c.WaitUpdated(ctx, pos[0])
	if err != nil {
		return err
	}
	return printJSON(stdio.Out, cfg)
}

func runFunctions(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad functions", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	newClient := clientFlags(fs, getenv)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	fns, err := newClient().ListFunctions(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRUNTIME\tHANDLER\tMEMORY\tTIMEOUT\tCODE SIZE\tLAST MODIFIED")
	for _, f := range fns {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", f.FunctionName, f.Runtime, f.Handler, f.MemorySize, f.Timeout, f.CodeSize, f.LastModified)
	}
	return tw.Flush()
}

func runGet(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad get", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	newClient := clientFlags(fs, getenv)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(stdio.Err, "usage: lambdad get NAME")
		return errUsage
	}
	out, err := newClient().GetFunction(ctx, pos[0])
	if err != nil {
		return err
	}
	return printJSON(stdio.Out, out)
}

func runDelete(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad delete", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	newClient := clientFlags(fs, getenv)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(stdio.Err, "usage: lambdad delete NAME")
		return errUsage
	}
	if err := newClient().DeleteFunction(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdio.Out, "deleted %s\n", pos[0])
	return nil
}

func runInvoke(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad invoke", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	sf := addServiceFlags(fs, getenv)
	newClient := sf.client
	key := fs.String("f", "", "invoke the service function with this key in the service file (-c), instead of NAME")
	qualifier := fs.String("qualifier", "", "version or alias")
	showLog := fs.Bool("log", false, "print the invocation's log tail to stderr")
	async := fs.Bool("async", false, "invoke asynchronously (InvocationType Event)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *key != "" {
		name, err := serviceFunction(sf, stdio, getenv, *key)
		if err != nil {
			return err
		}
		pos = append([]string{name}, pos...)
	}
	if len(pos) < 1 || len(pos) > 2 {
		fmt.Fprintln(stdio.Err, "usage: lambdad invoke (NAME | -f KEY) [PAYLOAD|@file|-] [--qualifier Q] [--log]")
		return errUsage
	}
	var payload []byte
	if len(pos) == 2 {
		switch p := pos[1]; {
		case p == "-":
			payload, err = io.ReadAll(stdio.In)
		case strings.HasPrefix(p, "@"):
			payload, err = os.ReadFile(p[1:])
		default:
			payload = []byte(p)
		}
		if err != nil {
			return fmt.Errorf("payload: %w", err)
		}
	}
	in := client.InvokeInput{FunctionName: pos[0], Qualifier: *qualifier, Payload: payload}
	if *showLog {
		in.LogType = "Tail"
	}
	if *async {
		in.InvocationType = "Event"
	}
	out, err := newClient().Invoke(ctx, in)
	if err != nil {
		return err
	}
	if *showLog && out.LogResult != "" {
		io.WriteString(stdio.Err, out.LogResult)
	}
	if *async {
		fmt.Fprintf(stdio.Out, "accepted (%d) request %s\n", out.StatusCode, out.RequestID)
		return nil
	}
	stdio.Out.Write(out.Payload)
	if len(out.Payload) > 0 && out.Payload[len(out.Payload)-1] != '\n' {
		io.WriteString(stdio.Out, "\n")
	}
	if out.FunctionError != "" {
		return errors.New("function error (" + out.FunctionError + ")")
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// zipEpoch is the fixed modification time of entries in zips lambdad makes.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// serviceFunction maps a function key of the service file to the deployed
// function name (service-stage-key, or the file's explicit name).
func serviceFunction(sf *serviceFlags, stdio Stdio, getenv func(string) string, key string) (string, error) {
	spec, err := sf.load(stdio.Err, getenv)
	if err != nil {
		return "", err
	}
	var keys []string
	for _, f := range spec.Functions {
		if f.Key == key {
			return f.Name, nil
		}
		keys = append(keys, f.Key)
	}
	return "", fmt.Errorf("no function %q in %s (functions: %s)", key, sf.config, strings.Join(keys, ", "))
}
