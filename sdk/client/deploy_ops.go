package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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

// Served reports whether the server serves method on path at all: any
// answer but UnknownOperationException (a missing resource, a validation
// error, success) means it does. It lets a client tell "not supported by
// this server" from "not found".
func (c *Client) Served(ctx context.Context, method, path string) (bool, error) {
	err := c.do(ctx, method, path, nil, nil, nil)
	var ae *APIError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ae):
		return ae.Type != "UnknownOperationException", nil
	}
	return false, err
}

// LayerVersion is a published layer version.
type LayerVersion struct {
	LayerArn                string               `json:"LayerArn,omitempty"`
	LayerVersionArn         string               `json:"LayerVersionArn"`
	Version                 int64                `json:"Version"`
	Description             string               `json:"Description"`
	CreatedDate             string               `json:"CreatedDate"`
	CompatibleRuntimes      []string             `json:"CompatibleRuntimes,omitempty"`
	CompatibleArchitectures []string             `json:"CompatibleArchitectures,omitempty"`
	LicenseInfo             string               `json:"LicenseInfo,omitempty"`
	Content                 *LayerVersionContent `json:"Content,omitempty"`
}

// LayerVersionContent is where a layer version's zip is and its hash.
type LayerVersionContent struct {
	Location   string `json:"Location"`
	CodeSha256 string `json:"CodeSha256"`
	CodeSize   int64  `json:"CodeSize"`
}

// PublishLayerVersionInput publishes a layer version from a zip.
type PublishLayerVersionInput struct {
	ZipFile                 []byte   `json:"-"`
	Description             string   `json:"Description,omitempty"`
	CompatibleRuntimes      []string `json:"CompatibleRuntimes,omitempty"`
	CompatibleArchitectures []string `json:"CompatibleArchitectures,omitempty"`
	LicenseInfo             string   `json:"LicenseInfo,omitempty"`
}

func layerPath(name string) string { return "/2018-10-31/layers/" + url.PathEscape(name) + "/versions" }

// PublishLayerVersion publishes a new version of layer name.
func (c *Client) PublishLayerVersion(ctx context.Context, name string, in PublishLayerVersionInput) (*LayerVersion, error) {
	body := struct {
		PublishLayerVersionInput
		Content map[string][]byte `json:"Content"`
	}{PublishLayerVersionInput: in, Content: map[string][]byte{"ZipFile": in.ZipFile}}
	var out LayerVersion
	return &out, c.do(ctx, "POST", layerPath(name), nil, body, &out)
}

// ListLayerVersions returns every version of layer name (newest first, as
// the server orders them), following pagination; none for an unknown layer.
func (c *Client) ListLayerVersions(ctx context.Context, name string) ([]LayerVersion, error) {
	var all []LayerVersion
	q := url.Values{}
	for {
		var page struct {
			LayerVersions []LayerVersion `json:"LayerVersions"`
			NextMarker    string         `json:"NextMarker"`
		}
		if err := c.do(ctx, "GET", layerPath(name), q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.LayerVersions...)
		if page.NextMarker == "" {
			return all, nil
		}
		q.Set("Marker", page.NextMarker)
	}
}

// GetLayerVersion returns version n of layer name, with its Content.
func (c *Client) GetLayerVersion(ctx context.Context, name string, n int64) (*LayerVersion, error) {
	var out LayerVersion
	return &out, c.do(ctx, "GET", layerPath(name)+"/"+strconv.FormatInt(n, 10), nil, nil, &out)
}

// DeleteLayerVersion deletes version n of layer name.
func (c *Client) DeleteLayerVersion(ctx context.Context, name string, n int64) error {
	return c.do(ctx, "DELETE", layerPath(name)+"/"+strconv.FormatInt(n, 10), nil, nil, nil)
}

// GetFunctionConcurrency returns the reserved concurrency of function name;
// nil when none is reserved.
func (c *Client) GetFunctionConcurrency(ctx context.Context, name string) (*int, error) {
	var out struct {
		ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions"`
	}
	err := c.do(ctx, "GET", "/2019-09-30/functions/"+url.PathEscape(name)+"/concurrency", nil, nil, &out)
	return out.ReservedConcurrentExecutions, err
}

// PutFunctionConcurrency reserves n concurrent executions for function name
// (0 throttles every invocation).
func (c *Client) PutFunctionConcurrency(ctx context.Context, name string, n int) error {
	in := struct {
		ReservedConcurrentExecutions int `json:"ReservedConcurrentExecutions"`
	}{n}
	return c.do(ctx, "PUT", "/2017-10-31/functions/"+url.PathEscape(name)+"/concurrency", nil, in, nil)
}

// DeleteFunctionConcurrency removes the reserved concurrency of function name.
func (c *Client) DeleteFunctionConcurrency(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/2017-10-31/functions/"+url.PathEscape(name)+"/concurrency", nil, nil, nil)
}

// PublishVersionInput publishes $LATEST as a version.
type PublishVersionInput struct {
	// CodeSha256 and RevisionId, when set, must match $LATEST.
	CodeSha256  string `json:"CodeSha256,omitempty"`
	Description string `json:"Description,omitempty"`
	RevisionId  string `json:"RevisionId,omitempty"`
}

// PublishVersion publishes function name's $LATEST; publishing an unchanged
// $LATEST returns the existing version.
func (c *Client) PublishVersion(ctx context.Context, name string, in PublishVersionInput) (*FunctionConfiguration, error) {
	var out FunctionConfiguration
	return &out, c.do(ctx, "POST", functionPath(name)+"/versions", nil, in, &out)
}

// ListVersionsByFunction returns $LATEST and every published version of
// function name, following pagination.
func (c *Client) ListVersionsByFunction(ctx context.Context, name string) ([]FunctionConfiguration, error) {
	var all []FunctionConfiguration
	q := url.Values{}
	for {
		var page struct {
			Versions   []FunctionConfiguration `json:"Versions"`
			NextMarker string                  `json:"NextMarker"`
		}
		if err := c.do(ctx, "GET", functionPath(name)+"/versions", q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Versions...)
		if page.NextMarker == "" {
			return all, nil
		}
		q.Set("Marker", page.NextMarker)
	}
}

func tagsPath(arn string) string { return "/2017-03-31/tags/" + url.PathEscape(arn) }

// TagResource adds or changes tags of the function with ARN arn.
func (c *Client) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	in := struct {
		Tags map[string]string `json:"Tags"`
	}{tags}
	return c.do(ctx, "POST", tagsPath(arn), nil, in, nil)
}

// UntagResource removes the tags keys from the function with ARN arn.
func (c *Client) UntagResource(ctx context.Context, arn string, keys []string) error {
	return c.do(ctx, "DELETE", tagsPath(arn), url.Values{"tagKeys": keys}, nil, nil)
}

// EventInvokeConfig configures asynchronous invocation of a function: nil
// members are the server's defaults.
type EventInvokeConfig struct {
	FunctionArn              string             `json:"FunctionArn,omitempty"`
	MaximumRetryAttempts     *int               `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int               `json:"MaximumEventAgeInSeconds,omitempty"`
	DestinationConfig        *DestinationConfig `json:"DestinationConfig,omitempty"`
}

// DestinationConfig holds the destinations of asynchronous invocations.
type DestinationConfig struct {
	OnSuccess *Destination `json:"OnSuccess,omitempty"`
	OnFailure *Destination `json:"OnFailure,omitempty"`
}

// Destination is a destination ARN ("" = none).
type Destination struct {
	Destination string `json:"Destination,omitempty"`
}

func eventInvokeConfigPath(name string) string {
	return "/2019-09-25/functions/" + url.PathEscape(name) + "/event-invoke-config"
}

// GetFunctionEventInvokeConfig returns the asynchronous invocation
// configuration of function name's $LATEST; nil when it has none.
func (c *Client) GetFunctionEventInvokeConfig(ctx context.Context, name string) (*EventInvokeConfig, error) {
	var out EventInvokeConfig
	err := c.do(ctx, "GET", eventInvokeConfigPath(name), nil, nil, &out)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// PutFunctionEventInvokeConfig replaces the asynchronous invocation
// configuration of function name's $LATEST.
func (c *Client) PutFunctionEventInvokeConfig(ctx context.Context, name string, in EventInvokeConfig) (*EventInvokeConfig, error) {
	in.FunctionArn = ""
	var out EventInvokeConfig
	return &out, c.do(ctx, "PUT", eventInvokeConfigPath(name), nil, in, &out)
}

// DeleteFunctionEventInvokeConfig removes the asynchronous invocation
// configuration of function name's $LATEST.
func (c *Client) DeleteFunctionEventInvokeConfig(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", eventInvokeConfigPath(name), nil, nil, nil)
}

// ProvisionedConcurrencyConfig is the provisioned concurrency of a
// function version or alias.
type ProvisionedConcurrencyConfig struct {
	RequestedProvisionedConcurrentExecutions int    `json:"RequestedProvisionedConcurrentExecutions"`
	AvailableProvisionedConcurrentExecutions int    `json:"AvailableProvisionedConcurrentExecutions"`
	AllocatedProvisionedConcurrentExecutions int    `json:"AllocatedProvisionedConcurrentExecutions"`
	Status                                   string `json:"Status"`
	StatusReason                             string `json:"StatusReason,omitempty"`
	LastModified                             string `json:"LastModified"`
}

func provisionedPath(name string) string {
	return "/2019-09-30/functions/" + url.PathEscape(name) + "/provisioned-concurrency"
}

// GetProvisionedConcurrencyConfig returns the provisioned concurrency of
// function name at qualifier (a version or alias); nil when none is
// configured.
func (c *Client) GetProvisionedConcurrencyConfig(ctx context.Context, name, qualifier string) (*ProvisionedConcurrencyConfig, error) {
	var out ProvisionedConcurrencyConfig
	err := c.do(ctx, "GET", provisionedPath(name), url.Values{"Qualifier": {qualifier}}, nil, &out)
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound && ae.Type != "UnknownOperationException" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// PutProvisionedConcurrencyConfig keeps n environments of function name at
// qualifier initialised ahead of invocations.
func (c *Client) PutProvisionedConcurrencyConfig(ctx context.Context, name, qualifier string, n int) (*ProvisionedConcurrencyConfig, error) {
	in := struct {
		ProvisionedConcurrentExecutions int `json:"ProvisionedConcurrentExecutions"`
	}{n}
	var out ProvisionedConcurrencyConfig
	return &out, c.do(ctx, "PUT", provisionedPath(name), url.Values{"Qualifier": {qualifier}}, in, &out)
}

// DeleteProvisionedConcurrencyConfig removes the provisioned concurrency of
// function name at qualifier.
func (c *Client) DeleteProvisionedConcurrencyConfig(ctx context.Context, name, qualifier string) error {
	return c.do(ctx, "DELETE", provisionedPath(name), url.Values{"Qualifier": {qualifier}}, nil, nil)
}
