package lambda

// Alias is an alias exactly as the Lambda API returns it (CreateAlias,
// GetAlias, ListAliases).
type Alias struct {
	AliasArn        string         `json:"AliasArn"`
	Name            string         `json:"Name"`
	FunctionVersion string         `json:"FunctionVersion"`
	Description     string         `json:"Description"`
	RoutingConfig   *RoutingConfig `json:"RoutingConfig,omitempty"`
	RevisionId      string         `json:"RevisionId"`
}

// RoutingConfig sends a share of an alias' traffic to a second version.
type RoutingConfig struct {
	AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights,omitempty"`
}

// LayerVersion is a published layer version as stored; the API renders it
// through control's output types.
type LayerVersion struct {
	LayerName               string   `json:"LayerName"`
	Version                 int64    `json:"Version"`
	Description             string   `json:"Description"`
	CreatedDate             string   `json:"CreatedDate"`
	CompatibleRuntimes      []string `json:"CompatibleRuntimes,omitempty"`
	CompatibleArchitectures []string `json:"CompatibleArchitectures,omitempty"`
	LicenseInfo             string   `json:"LicenseInfo,omitempty"`
	CodeSha256              string   `json:"CodeSha256"`
	CodeSize                int64    `json:"CodeSize"`
	UnzippedSize            int64    `json:"UnzippedSize"`
}

// LayerARN is arn:aws:lambda:REGION:ACCOUNT:layer:NAME.
func LayerARN(region, account, name string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":layer:" + name
}
