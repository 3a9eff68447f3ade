package control

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/lambdad/lambdad/internal/lambda"
)

// FunctionCode is CreateFunction's Code member. ZipFile arrives base64 in
// JSON and is decoded by encoding/json.
type FunctionCode struct {
	ZipFile         []byte `json:"ZipFile,omitempty"`
	S3Bucket        string `json:"S3Bucket,omitempty"`
	S3Key           string `json:"S3Key,omitempty"`
	S3ObjectVersion string `json:"S3ObjectVersion,omitempty"`
	ImageUri        string `json:"ImageUri,omitempty"`
	SourceKMSKeyArn string `json:"SourceKMSKeyArn,omitempty"`
}

// SnapStart is the request form of the SnapStart setting.
type SnapStart struct {
	ApplyOn string `json:"ApplyOn"`
}

// Environment is the request form of Environment; it keeps the variables'
// order so the 4 KB error can quote them exactly as AWS measures them.
type Environment struct {
	Variables *OrderedVars `json:"Variables"`
}

// OrderedVars is a JSON object of strings that remembers key order.
type OrderedVars struct {
	Keys []string
	Map  map[string]string
}

// UnmarshalJSON decodes an object of strings preserving key order.
func (o *OrderedVars) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("environment variables: want a JSON object")
	}
	o.Map = map[string]string{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := kt.(string)
		var v string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("environment variable %s: %w", k, err)
		}
		if _, dup := o.Map[k]; !dup {
			o.Keys = append(o.Keys, k)
		}
		o.Map[k] = v
	}
	_, err = dec.Token()
	return err
}

// compactJSON renders the variables as AWS measures them: compact JSON in
// request order, without HTML escaping.
func (o *OrderedVars) compactJSON() string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.Keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(marshalString(k))
		b.WriteByte(':')
		b.Write(marshalString(o.Map[k]))
	}
	b.WriteByte('}')
	return b.String()
}

func marshalString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// CreateFunctionInput is the CreateFunction request body.
type CreateFunctionInput struct {
	FunctionName         string                    `json:"FunctionName"`
	Runtime              string                    `json:"Runtime"`
	Role                 *string                   `json:"Role"`
	Handler              *string                   `json:"Handler"`
	Code                 *FunctionCode             `json:"Code"`
	Description          *string                   `json:"Description"`
	Timeout              *int                      `json:"Timeout"`
	MemorySize           *int                      `json:"MemorySize"`
	Publish              bool                      `json:"Publish"`
	VpcConfig            *lambda.VpcConfig         `json:"VpcConfig"`
	PackageType          string                    `json:"PackageType"`
	DeadLetterConfig     *lambda.DeadLetterConfig  `json:"DeadLetterConfig"`
	Environment          *Environment              `json:"Environment"`
	KMSKeyArn            string                    `json:"KMSKeyArn"`
	TracingConfig        *lambda.TracingConfig     `json:"TracingConfig"`
	Tags                 map[string]string         `json:"Tags"`
	Layers               []string                  `json:"Layers"`
	FileSystemConfigs    []lambda.FileSystemConfig `json:"FileSystemConfigs"`
	ImageConfig          json.RawMessage           `json:"ImageConfig"`
	CodeSigningConfigArn string                    `json:"CodeSigningConfigArn"`
	Architectures        []string                  `json:"Architectures"`
	EphemeralStorage     *lambda.EphemeralStorage  `json:"EphemeralStorage"`
	SnapStart            *SnapStart                `json:"SnapStart"`
	LoggingConfig        *lambda.LoggingConfig     `json:"LoggingConfig"`
}

// UpdateFunctionCodeInput is the UpdateFunctionCode request body; the
// function name comes from the path.
type UpdateFunctionCodeInput struct {
	FunctionName    string   `json:"-"`
	ZipFile         []byte   `json:"ZipFile"`
	S3Bucket        string   `json:"S3Bucket"`
	S3Key           string   `json:"S3Key"`
	S3ObjectVersion string   `json:"S3ObjectVersion"`
	ImageUri        string   `json:"ImageUri"`
	Publish         bool     `json:"Publish"`
	DryRun          bool     `json:"DryRun"`
	RevisionId      string   `json:"RevisionId"`
	Architectures   []string `json:"Architectures"`
}

// UpdateFunctionConfigurationInput is the UpdateFunctionConfiguration
// request body; nil members are left unchanged.
type UpdateFunctionConfigurationInput struct {
	FunctionName      string                     `json:"-"`
	Role              *string                    `json:"Role"`
	Handler           *string                    `json:"Handler"`
	Description       *string                    `json:"Description"`
	Timeout           *int                       `json:"Timeout"`
	MemorySize        *int                       `json:"MemorySize"`
	VpcConfig         *lambda.VpcConfig          `json:"VpcConfig"`
	Environment       *Environment               `json:"Environment"`
	Runtime           *string                    `json:"Runtime"`
	DeadLetterConfig  *lambda.DeadLetterConfig   `json:"DeadLetterConfig"`
	KMSKeyArn         *string                    `json:"KMSKeyArn"`
	TracingConfig     *lambda.TracingConfig      `json:"TracingConfig"`
	RevisionId        string                     `json:"RevisionId"`
	Layers            *[]string                  `json:"Layers"`
	FileSystemConfigs *[]lambda.FileSystemConfig `json:"FileSystemConfigs"`
	ImageConfig       json.RawMessage            `json:"ImageConfig"`
	EphemeralStorage  *lambda.EphemeralStorage   `json:"EphemeralStorage"`
	SnapStart         *SnapStart                 `json:"SnapStart"`
	LoggingConfig     *lambda.LoggingConfig      `json:"LoggingConfig"`
}

// FunctionCodeLocation is GetFunction's Code member.
type FunctionCodeLocation struct {
	RepositoryType string `json:"RepositoryType"`
	Location       string `json:"Location"`
}

// GetFunctionOutput is the GetFunction response body.
type GetFunctionOutput struct {
	Configuration lambda.FunctionConfiguration `json:"Configuration"`
	Code          FunctionCodeLocation         `json:"Code"`
	Tags          map[string]string            `json:"Tags,omitempty"`
	Concurrency   *Concurrency                 `json:"Concurrency,omitempty"`
}

// ListFunctionsInput holds ListFunctions' query parameters.
type ListFunctionsInput struct {
	Marker          string
	MaxItems        string // raw query value; "" = default
	FunctionVersion string
	MasterRegion    string
}

// ListFunctionsOutput is the ListFunctions response body.
type ListFunctionsOutput struct {
	Functions  []lambda.FunctionConfiguration `json:"Functions"`
	NextMarker string                         `json:"NextMarker,omitempty"`
}

// AccountLimit is GetAccountSettings' AccountLimit.
type AccountLimit struct {
	TotalCodeSize                  int64 `json:"TotalCodeSize"`
	CodeSizeUnzipped               int64 `json:"CodeSizeUnzipped"`
	CodeSizeZipped                 int64 `json:"CodeSizeZipped"`
	ConcurrentExecutions           int   `json:"ConcurrentExecutions"`
	UnreservedConcurrentExecutions int   `json:"UnreservedConcurrentExecutions"`
}

// AccountUsage is GetAccountSettings' AccountUsage.
type AccountUsage struct {
	TotalCodeSize int64 `json:"TotalCodeSize"`
	FunctionCount int64 `json:"FunctionCount"`
}

// AccountSettings is the GetAccountSettings response body.
type AccountSettings struct {
	AccountLimit AccountLimit `json:"AccountLimit"`
	AccountUsage AccountUsage `json:"AccountUsage"`
}
