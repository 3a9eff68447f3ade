// Package client is the public Go client of the lambdad API (the AWS Lambda
// REST API as served by lambdad): create, update, get, list and delete
// functions, invoke them, read account settings, and wait for state
// transitions. The lambdad CLI is built on it.
//
// It imports only the standard library, so programs outside this module
// can use it; its types mirror the Lambda wire format.
package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to one lambdad server. It is safe for concurrent use.
type Client struct {
	endpoint string
	http     *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: http.DefaultClient).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// New returns a client for endpoint, e.g. "http://127.0.0.1:9001".
func New(endpoint string, opts ...Option) *Client {
	c := &Client{endpoint: strings.TrimSuffix(endpoint, "/"), http: http.DefaultClient}
	for _, o := range opts {
		o(c)
	}
	return c
}

// APIError is an error response of the API.
type APIError struct {
	Type       string // Lambda error type, e.g. "ResourceNotFoundException"
	Message    string
	StatusCode int
	Reason     string // TooManyRequestsException only
	RequestID  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Type, e.StatusCode, e.Message)
}

// IsNotFound reports whether err is a ResourceNotFoundException.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Type == "ResourceNotFoundException"
}

// FunctionConfiguration is a function's configuration as the API returns it.
type FunctionConfiguration struct {
	FunctionName               string            `json:"FunctionName"`
	FunctionArn                string            `json:"FunctionArn"`
	Runtime                    string            `json:"Runtime,omitempty"`
	Role                       string            `json:"Role"`
	Handler                    string            `json:"Handler,omitempty"`
	CodeSize                   int64             `json:"CodeSize"`
	Description                string            `json:"Description"`
	Timeout                    int               `json:"Timeout"`
	MemorySize                 int               `json:"MemorySize"`
	LastModified               string            `json:"LastModified"`
	CodeSha256                 string            `json:"CodeSha256"`
	Version                    string            `json:"Version"`
	Environment                *Environment      `json:"Environment,omitempty"`
	RevisionId                 string            `json:"RevisionId"`
	Layers                     []Layer           `json:"Layers,omitempty"`
	State                      string            `json:"State,omitempty"`
	StateReason                string            `json:"StateReason,omitempty"`
	StateReasonCode            string            `json:"StateReasonCode,omitempty"`
	LastUpdateStatus           string            `json:"LastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string            `json:"LastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string            `json:"LastUpdateStatusReasonCode,omitempty"`
	PackageType                string            `json:"PackageType"`
	Architectures              []string          `json:"Architectures"`
	EphemeralStorage           *EphemeralStorage `json:"EphemeralStorage,omitempty"`
	TracingConfig              *TracingConfig    `json:"TracingConfig,omitempty"`
	LoggingConfig              *LoggingConfig    `json:"LoggingConfig,omitempty"`
}

// Environment holds environment variables.
type Environment struct {
	Variables map[string]string `json:"Variables"`
}

// Layer is a layer version reference.
type Layer struct {
	Arn      string `json:"Arn"`
	CodeSize int64  `json:"CodeSize"`
}

// EphemeralStorage is /tmp's size in MB.
type EphemeralStorage struct {
	Size int `json:"Size"`
}

// TracingConfig is the tracing mode.
type TracingConfig struct {
	Mode string `json:"Mode,omitempty"`
}

// LoggingConfig is the logging configuration.
type LoggingConfig struct {
	LogFormat           string `json:"LogFormat,omitempty"`
	ApplicationLogLevel string `json:"ApplicationLogLevel,omitempty"`
	SystemLogLevel      string `json:"SystemLogLevel,omitempty"`
	LogGroup            string `json:"LogGroup,omitempty"`
}

// CreateFunctionInput creates a function from a zip.
type CreateFunctionInput struct {
	FunctionName  string            `json:"FunctionName"`
	Runtime       string            `json:"Runtime"`
	Handler       string            `json:"Handler"`
	Role          string            `json:"Role"` // default: a placeholder role ARN
	ZipFile       []byte            `json:"-"`
	Description   string            `json:"Description,omitempty"`
	Timeout       int               `json:"Timeout,omitempty"`    // 0 = server default
	MemorySize    int               `json:"MemorySize,omitempty"` // 0 = server default
	Environment   map[string]string `json:"-"`
	Architectures []string          `json:"Architectures,omitempty"`
	Layers        []string          `json:"Layers,omitempty"`
	Tags          map[string]string `json:"Tags,omitempty"`
	Publish       bool              `json:"Publish,omitempty"`
}

// DefaultRole is used when CreateFunctionInput.Role is empty; lambdad
// stores roles but does not use IAM.
const DefaultRole = "arn:aws:iam::000000000000:role/lambdad"

// CreateFunction creates a function; the result is in State Pending.
func (c *Client) CreateFunction(ctx context.Context, in CreateFunctionInput) (*FunctionConfiguration, error) {
	if in.Role == "" {
		in.Role = DefaultRole
	}
	body := struct {
		CreateFunctionInput
		Code        map[string][]byte `json:"Code"`
		Environment *Environment      `json:"Environment,omitempty"`
	}{CreateFunctionInput: in, Code: map[string][]byte{"ZipFile": in.ZipFile}}
	if in.Environment != nil {
		body.Environment = &Environment{Variables: in.Environment}
	}
	var out FunctionConfiguration
	return &out, c.do(ctx, "POST", "/2015-03-31/functions", nil, body, &out)
}

// UpdateFunctionCodeInput replaces a function's code.
type UpdateFunctionCodeInput struct {
	ZipFile    []byte `json:"ZipFile"`
	RevisionId string `json:"RevisionId,omitempty"`
	DryRun     bool   `json:"DryRun,omitempty"`
	Publish    bool   `json:"Publish,omitempty"`
}

// UpdateFunctionCode replaces the code of function name.
func (c *Client) UpdateFunctionCode(ctx context.Context, name string, in UpdateFunctionCodeInput) (*FunctionConfiguration, error) {
	var out FunctionConfiguration
	return &out, c.do(ctx, "PUT", functionPath(name)+"/code", nil, in, &out)
}

// UpdateFunctionConfigurationInput changes configuration; nil/zero members
// are left unchanged.
type UpdateFunctionConfigurationInput struct {
	Runtime     string             `json:"Runtime,omitempty"`
	Handler     string             `json:"Handler,omitempty"`
	Description *string            `json:"Description,omitempty"`
	Timeout     int                `json:"Timeout,omitempty"`
	MemorySize  int                `json:"MemorySize,omitempty"`
	Environment *map[string]string `json:"-"`
	RevisionId  string             `json:"RevisionId,omitempty"`
}

// UpdateFunctionConfiguration updates the configuration of function name.
func (c *Client) UpdateFunctionConfiguration(ctx context.Context, name string, in UpdateFunctionConfigurationInput) (*FunctionConfiguration, error) {
	body := struct {
		UpdateFunctionConfigurationInput
		Environment *Environment `json:"Environment,omitempty"`
	}{UpdateFunctionConfigurationInput: in}
	if in.Environment != nil {
		body.Environment = &Environment{Variables: *in.Environment}
	}
	var out FunctionConfiguration
	return &out, c.do(ctx, "PUT", functionPath(name)+"/configuration", nil, body, &out)
}

// GetFunctionOutput is GetFunction's result.
type GetFunctionOutput struct {
	Configuration FunctionConfiguration `json:"Configuration"`
	Code          struct {
		RepositoryType string `json:"RepositoryType"`
		Location       string `json:"Location"`
	} `json:"Code"`
	Tags map[string]string `json:"Tags,omitempty"`
}

// GetFunction returns configuration, code location and tags.
func (c *Client) GetFunction(ctx context.Context, name string) (*GetFunctionOutput, error) {
	var out GetFunctionOutput
	return &out, c.do(ctx, "GET", functionPath(name), nil, nil, &out)
}

// GetFunctionConfiguration returns the configuration of $LATEST.
func (c *Client) GetFunctionConfiguration(ctx context.Context, name string) (*FunctionConfiguration, error) {
	var out FunctionConfiguration
	return &out, c.do(ctx, "GET", functionPath(name)+"/configuration", nil, nil, &out)
}

// DownloadCode fetches the function's deployment package.
func (c *Client) DownloadCode(ctx context.Context, name string) ([]byte, error) {
	f, err := c.GetFunction(ctx, name)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", f.Code.Location, nil)
	if err != nil {
		return nil, fmt.Errorf("download code: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download code: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, decodeError(resp)
	}
	return io.ReadAll(resp.Body)
}

// ListFunctions returns every function, following pagination.
func (c *Client) ListFunctions(ctx context.Context) ([]FunctionConfiguration, error) {
	var all []FunctionConfiguration
	marker := ""
	for {
		q := url.Values{}
		if marker != "" {
			q.Set("Marker", marker)
		}
		var page struct {
			Functions  []FunctionConfiguration `json:"Functions"`
			NextMarker string                  `json:"NextMarker"`
		}
		if err := c.do(ctx, "GET", "/2015-03-31/functions", q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Functions...)
		if page.NextMarker == "" {
			return all, nil
		}
		marker = page.NextMarker
	}
}

// DeleteFunction deletes function name.
func (c *Client) DeleteFunction(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", functionPath(name), nil, nil, nil)
}

// InvokeInput is one invocation.
type InvokeInput struct {
	FunctionName   string
	Qualifier      string
	Payload        []byte // nil sends an empty body ({} for the function)
	InvocationType string // "" = RequestResponse; "Event"; "DryRun"
	LogType        string // "" = None; "Tail"
	ClientContext  []byte // JSON; sent base64-encoded
}

// InvokeOutput is an invocation's result. A function error is a result
// (FunctionError set), not a Go error.
type InvokeOutput struct {
	StatusCode      int
	Payload         []byte
	FunctionError   string
	LogResult       string // decoded log tail
	ExecutedVersion string
	RequestID       string
}

// Invoke invokes a function.
func (c *Client) Invoke(ctx context.Context, in InvokeInput) (*InvokeOutput, error) {
	q := url.Values{}
	if in.Qualifier != "" {
		q.Set("Qualifier", in.Qualifier)
	}
	req, err := c.newRequest(ctx, "POST", functionPath(in.FunctionName)+"/invocations", q, bytes.NewReader(in.Payload))
	if err != nil {
		return nil, err
	}
	if in.InvocationType != "" {
		req.Header.Set("X-Amz-Invocation-Type", in.InvocationType)
	}
	if in.LogType != "" {
		req.Header.Set("X-Amz-Log-Type", in.LogType)
	}
	if in.ClientContext != nil {
		req.Header.Set("X-Amz-Client-Context", base64.StdEncoding.EncodeToString(in.ClientContext))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", in.FunctionName, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return nil, decodeError(resp)
	}
	payload, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: read response: %w", in.FunctionName, err)
	}
	out := &InvokeOutput{
		StatusCode:      resp.StatusCode,
		Payload:         payload,
		FunctionError:   resp.Header.Get("X-Amz-Function-Error"),
		ExecutedVersion: resp.Header.Get("X-Amz-Executed-Version"),
		RequestID:       resp.Header.Get("X-Amzn-Requestid"),
	}
	if lr := resp.Header.Get("X-Amz-Log-Result"); lr != "" {
		b, err := base64.StdEncoding.DecodeString(lr)
		if err != nil {
			return nil, fmt.Errorf("invoke %s: decode log result: %w", in.FunctionName, err)
		}
		out.LogResult = string(b)
	}
	return out, nil
}

// AccountSettings is GetAccountSettings' result.
type AccountSettings struct {
	AccountLimit struct {
		TotalCodeSize                  int64 `json:"TotalCodeSize"`
		CodeSizeUnzipped               int64 `json:"CodeSizeUnzipped"`
		CodeSizeZipped                 int64 `json:"CodeSizeZipped"`
		ConcurrentExecutions           int   `json:"ConcurrentExecutions"`
		UnreservedConcurrentExecutions int   `json:"UnreservedConcurrentExecutions"`
	} `json:"AccountLimit"`
	AccountUsage struct {
		TotalCodeSize int64 `json:"TotalCodeSize"`
		FunctionCount int64 `json:"FunctionCount"`
	} `json:"AccountUsage"`
}

// GetAccountSettings returns limits and usage.
func (c *Client) GetAccountSettings(ctx context.Context) (*AccountSettings, error) {
	var out AccountSettings
	return &out, c.do(ctx, "GET", "/2016-08-19/account-settings", nil, nil, &out)
}

// WaitActive polls until the function is Active (like function-active-v2).
// A Failed function yields an error carrying its StateReason.
func (c *Client) WaitActive(ctx context.Context, name string) (*FunctionConfiguration, error) {
	return c.wait(ctx, name, func(f *FunctionConfiguration) (bool, error) {
		switch f.State {
		case "Active":
			return true, nil
		case "Failed":
			return false, fmt.Errorf("function %s failed: %s", name, f.StateReason)
		}
		return false, nil
	})
}

// WaitUpdated polls until the last update finished (like function-updated-v2).
func (c *Client) WaitUpdated(ctx context.Context, name string) (*FunctionConfiguration, error) {
	return c.wait(ctx, name, func(f *FunctionConfiguration) (bool, error) {
		switch f.LastUpdateStatus {
		case "Successful":
			return true, nil
		case "Failed":
			return false, fmt.Errorf("update of function %s failed: %s", name, f.LastUpdateStatusReason)
		}
		return false, nil
	})
}

func (c *Client) wait(ctx context.Context, name string, done func(*FunctionConfiguration) (bool, error)) (*FunctionConfiguration, error) {
	delay := 20 * time.Millisecond
	for {
		f, err := c.GetFunctionConfiguration(ctx, name)
		if err != nil {
			return nil, err
		}
		ok, err := done(f)
		if err != nil || ok {
			return f, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("wait for function %s: %w", name, ctx.Err())
		case <-t.C:
		}
		if delay < time.Second {
			delay *= 2
		}
	}
}

func functionPath(name string) string {
	return "/2015-03-31/functions/" + url.PathEscape(name)
}

func (c *Client) newRequest(ctx context.Context, method, path string, q url.Values, body io.Reader) (*http.Request, error) {
	u := c.endpoint + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build request %s %s: %w", method, path, err)
	}
	req.Header.Set("User-Agent", "lambdad-client")
	return req, nil
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := c.newRequest(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// decodeError builds an *APIError from an error response, reading the type
// from x-amzn-ErrorType (text after ':' dropped) and the message from
// "message" or "Message", as AWS SDKs do.
func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body map[string]any
	json.Unmarshal(b, &body)
	str := func(k string) string { s, _ := body[k].(string); return s }
	e := &APIError{
		Type:       resp.Header.Get("X-Amzn-Errortype"),
		StatusCode: resp.StatusCode,
		Message:    str("message"),
		Reason:     str("Reason"),
		RequestID:  resp.Header.Get("X-Amzn-Requestid"),
	}
	if e.Message == "" {
		e.Message = str("Message")
	}
	if i := strings.IndexByte(e.Type, ':'); i >= 0 {
		e.Type = e.Type[:i]
	}
	if e.Type == "" {
		e.Type = "HTTP" + strconv.Itoa(resp.StatusCode)
		if e.Message == "" {
			e.Message = strings.TrimSpace(string(b))
		}
	}
	return e
}
