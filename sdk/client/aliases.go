package client

import (
	"context"
	"net/url"
)

// Alias is an alias of a function version, optionally routing a share of
// its traffic to a second version.
type Alias struct {
	AliasArn        string         `json:"AliasArn"`
	Name            string         `json:"Name"`
	FunctionVersion string         `json:"FunctionVersion"`
	Description     string         `json:"Description"`
	RoutingConfig   *RoutingConfig `json:"RoutingConfig,omitempty"`
	RevisionId      string         `json:"RevisionId"`
}

// RoutingConfig maps one additional version to the share (0..1) of the
// alias' invocations it receives.
type RoutingConfig struct {
	AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights"`
}

// AliasInput is CreateAlias' and UpdateAlias' request. For UpdateAlias,
// empty members are left unchanged, and a non-nil RoutingConfig with no
// weights removes routing.
type AliasInput struct {
	FunctionVersion string         `json:"FunctionVersion,omitempty"`
	Description     *string        `json:"Description,omitempty"`
	RoutingConfig   *RoutingConfig `json:"RoutingConfig,omitempty"`
	RevisionId      string         `json:"RevisionId,omitempty"`
}

func aliasesPath(function string) string { return functionPath(function) + "/aliases" }

// CreateAlias creates alias name of function pointing at in.FunctionVersion.
func (c *Client) CreateAlias(ctx context.Context, function, name string, in AliasInput) (*Alias, error) {
	body := struct {
		Name string `json:"Name"`
		AliasInput
	}{name, in}
	var out Alias
	return &out, c.do(ctx, "POST", aliasesPath(function), nil, body, &out)
}

// UpdateAlias changes alias name of function.
func (c *Client) UpdateAlias(ctx context.Context, function, name string, in AliasInput) (*Alias, error) {
	var out Alias
	return &out, c.do(ctx, "PUT", aliasesPath(function)+"/"+url.PathEscape(name), nil, in, &out)
}

// GetAlias returns alias name of function.
func (c *Client) GetAlias(ctx context.Context, function, name string) (*Alias, error) {
	var out Alias
	return &out, c.do(ctx, "GET", aliasesPath(function)+"/"+url.PathEscape(name), nil, nil, &out)
}

// DeleteAlias deletes alias name of function (no error if absent).
func (c *Client) DeleteAlias(ctx context.Context, function, name string) error {
	return c.do(ctx, "DELETE", aliasesPath(function)+"/"+url.PathEscape(name), nil, nil, nil)
}

// ListAliases returns every alias of function, following pagination.
func (c *Client) ListAliases(ctx context.Context, function string) ([]Alias, error) {
	var all []Alias
	q := url.Values{}
	for {
		var page struct {
			Aliases    []Alias `json:"Aliases"`
			NextMarker string  `json:"NextMarker"`
		}
		if err := c.do(ctx, "GET", aliasesPath(function), q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Aliases...)
		if page.NextMarker == "" {
			return all, nil
		}
		q.Set("Marker", page.NextMarker)
	}
}

// GetFunctionQualified is GetFunction for a version or alias qualifier
// ("" = $LATEST). An alias reports its own ARN as FunctionArn.
func (c *Client) GetFunctionQualified(ctx context.Context, name, qualifier string) (*GetFunctionOutput, error) {
	var q url.Values
	if qualifier != "" {
		q = url.Values{"Qualifier": {qualifier}}
	}
	var out GetFunctionOutput
	return &out, c.do(ctx, "GET", functionPath(name), q, nil, &out)
}

// LayerSummary is one ListLayers entry: a layer and its newest version.
type LayerSummary struct {
	LayerName             string `json:"LayerName"`
	LayerArn              string `json:"LayerArn"`
	LatestMatchingVersion struct {
		LayerVersionArn    string   `json:"LayerVersionArn"`
		Version            int64    `json:"Version"`
		Description        string   `json:"Description"`
		CreatedDate        string   `json:"CreatedDate"`
		CompatibleRuntimes []string `json:"CompatibleRuntimes"`
	} `json:"LatestMatchingVersion"`
}

// ListLayers returns every layer with its newest version compatible with
// runtime ("" = any), following pagination.
func (c *Client) ListLayers(ctx context.Context, runtime string) ([]LayerSummary, error) {
	var all []LayerSummary
	q := url.Values{}
	if runtime != "" {
		q.Set("CompatibleRuntime", runtime)
	}
	for {
		var page struct {
			Layers     []LayerSummary `json:"Layers"`
			NextMarker string         `json:"NextMarker"`
		}
		if err := c.do(ctx, "GET", "/2018-10-31/layers", q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Layers...)
		if page.NextMarker == "" {
			return all, nil
		}
		q.Set("Marker", page.NextMarker)
	}
}
