package client

import (
	"context"
	"slices"
)

// Capabilities are what a lambdad server supports, from
// GET /lambdad/v1/capabilities: its version, isolation mode, the runtimes
// it can run, the optional features it serves (e.g. "layers",
// "concurrency") and the event sources it can trigger functions from
// (serverless.yml event names such as "schedule" or "sqs").
type Capabilities struct {
	Version   string   `json:"version"`
	Isolation string   `json:"isolation"`
	Runtimes  []string `json:"runtimes"`
	Features  []string `json:"features"`
	Events    []string `json:"events"`
}

// HasFeature reports whether the server advertises feature.
func (c *Capabilities) HasFeature(feature string) bool { return slices.Contains(c.Features, feature) }

// HasRuntime reports whether the server can run runtime.
func (c *Capabilities) HasRuntime(runtime string) bool { return slices.Contains(c.Runtimes, runtime) }

// HasEvent reports whether the server can trigger functions from event.
func (c *Capabilities) HasEvent(event string) bool { return slices.Contains(c.Events, event) }

// Capabilities reads the server's capabilities.
func (c *Client) Capabilities(ctx context.Context) (*Capabilities, error) {
	var out Capabilities
	return &out, c.do(ctx, "GET", "/lambdad/v1/capabilities", nil, nil, &out)
}

// CreateFunctionExtra holds the CreateFunction members that
// CreateFunctionInput does not carry.
type CreateFunctionExtra struct {
	EphemeralStorage *EphemeralStorage `json:"EphemeralStorage,omitempty"`
}

// CreateFunctionWith is CreateFunction with the extra members of extra
// sent as well; the result is in State Pending.
func (c *Client) CreateFunctionWith(ctx context.Context, in CreateFunctionInput, extra CreateFunctionExtra) (*FunctionConfiguration, error) {
	if in.Role == "" {
		in.Role = DefaultRole
	}
	body := struct {
		CreateFunctionInput
		CreateFunctionExtra
		Code        map[string][]byte `json:"Code"`
		Environment *Environment      `json:"Environment,omitempty"`
	}{CreateFunctionInput: in, CreateFunctionExtra: extra, Code: map[string][]byte{"ZipFile": in.ZipFile}}
	if in.Environment != nil {
		body.Environment = &Environment{Variables: in.Environment}
	}
	var out FunctionConfiguration
	return &out, c.do(ctx, "POST", "/2015-03-31/functions", nil, body, &out)
}

// ConfigurationPatch is an UpdateFunctionConfiguration request in which
// every nil member is left unchanged and every other one is sent, including
// empty values (an empty Description clears it, an empty Environment
// removes every variable, an empty Layers list detaches every layer).
type ConfigurationPatch struct {
	Runtime          *string            `json:"Runtime,omitempty"`
	Handler          *string            `json:"Handler,omitempty"`
	Description      *string            `json:"Description,omitempty"`
	Timeout          *int               `json:"Timeout,omitempty"`
	MemorySize       *int               `json:"MemorySize,omitempty"`
	Environment      *map[string]string `json:"-"`
	Layers           *[]string          `json:"Layers,omitempty"`
	EphemeralStorage *EphemeralStorage  `json:"EphemeralStorage,omitempty"`
	// RevisionId, when set, makes the update fail with
	// PreconditionFailedException if the function changed since.
	RevisionId string `json:"RevisionId,omitempty"`
}

// PatchFunctionConfiguration applies p to the configuration of function
// name; the result has LastUpdateStatus InProgress until the update is done
// (see WaitUpdated).
func (c *Client) PatchFunctionConfiguration(ctx context.Context, name string, p ConfigurationPatch) (*FunctionConfiguration, error) {
	body := struct {
		ConfigurationPatch
		Environment *Environment `json:"Environment,omitempty"`
	}{ConfigurationPatch: p}
	if p.Environment != nil {
		vars := *p.Environment
		if vars == nil {
			vars = map[string]string{}
		}
		body.Environment = &Environment{Variables: vars}
	}
	var out FunctionConfiguration
	return &out, c.do(ctx, "PUT", functionPath(name)+"/configuration", nil, body, &out)
}
