package lambda

// Function states and update statuses (SPEC §1.2).
const (
	StatePending  = "Pending"
	StateActive   = "Active"
	StateInactive = "Inactive"
	StateFailed   = "Failed"

	UpdateInProgress = "InProgress"
	UpdateSuccessful = "Successful"
	UpdateFailed     = "Failed"

	// ReasonCreating is the StateReason / LastUpdateStatusReason AWS reports
	// while a create or an update is being applied (the same text for both).
	ReasonCreating     = "The function is being created."
	ReasonCodeCreating = "Creating"
	// ReasonCodeInvalidRuntime marks a function whose runtime this host cannot serve.
	ReasonCodeInvalidRuntime = "InvalidRuntime"
	// ReasonCodeInvalidZipFile marks a function whose code cannot be unpacked.
	ReasonCodeInvalidZipFile = "InvalidZipFileException"
	ReasonCodeInternalError  = "InternalError"

	PackageTypeZip   = "Zip"
	PackageTypeImage = "Image"

	ArchX8664 = "x86_64"
	ArchARM64 = "arm64"

	TracingPassThrough = "PassThrough"
	TracingActive      = "Active"

	LogFormatText = "Text"
	LogFormatJSON = "JSON"

	// VersionLatest is the mutable head version of every function.
	VersionLatest = "$LATEST"

	// TimeFormat is FunctionConfiguration.LastModified's layout
	// (2019-10-26T08:21:34.533+0000).
	TimeFormat = "2006-01-02T15:04:05.000-0700"
)

// FunctionConfiguration is a function version's configuration exactly as the
// Lambda API returns it (GetFunctionConfiguration, CreateFunction, ...).
// Members AWS omits when unset carry omitempty; members AWS always returns
// (Description "", TracingConfig, ...) do not.
type FunctionConfiguration struct {
	FunctionName               string                `json:"FunctionName"`
	FunctionArn                string                `json:"FunctionArn"`
	Runtime                    string                `json:"Runtime,omitempty"`
	Role                       string                `json:"Role"`
	Handler                    string                `json:"Handler,omitempty"`
	CodeSize                   int64                 `json:"CodeSize"`
	Description                string                `json:"Description"`
	Timeout                    int                   `json:"Timeout"`
	MemorySize                 int                   `json:"MemorySize"`
	LastModified               string                `json:"LastModified"`
	CodeSha256                 string                `json:"CodeSha256"`
	Version                    string                `json:"Version"`
	VpcConfig                  *VpcConfig            `json:"VpcConfig,omitempty"`
	DeadLetterConfig           *DeadLetterConfig     `json:"DeadLetterConfig,omitempty"`
	Environment                *Environment          `json:"Environment,omitempty"`
	KMSKeyArn                  string                `json:"KMSKeyArn,omitempty"`
	TracingConfig              *TracingConfig        `json:"TracingConfig,omitempty"`
	RevisionId                 string                `json:"RevisionId"`
	Layers                     []Layer               `json:"Layers,omitempty"`
	State                      string                `json:"State,omitempty"`
	StateReason                string                `json:"StateReason,omitempty"`
	StateReasonCode            string                `json:"StateReasonCode,omitempty"`
	LastUpdateStatus           string                `json:"LastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string                `json:"LastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string                `json:"LastUpdateStatusReasonCode,omitempty"`
	FileSystemConfigs          []FileSystemConfig    `json:"FileSystemConfigs,omitempty"`
	PackageType                string                `json:"PackageType"`
	Architectures              []string              `json:"Architectures"`
	EphemeralStorage           *EphemeralStorage     `json:"EphemeralStorage,omitempty"`
	SnapStart                  *SnapStartResponse    `json:"SnapStart,omitempty"`
	RuntimeVersionConfig       *RuntimeVersionConfig `json:"RuntimeVersionConfig,omitempty"`
	LoggingConfig              *LoggingConfig        `json:"LoggingConfig,omitempty"`
}

// Environment is the function's customer environment variables.
type Environment struct {
	Variables map[string]string `json:"Variables"`
}

// TracingConfig is the X-Ray mode (accepted and stored; lambdad does not trace).
type TracingConfig struct {
	Mode string `json:"Mode,omitempty"`
}

// Layer is a layer version reference as echoed in a configuration.
type Layer struct {
	Arn      string `json:"Arn"`
	CodeSize int64  `json:"CodeSize"`
}

// EphemeralStorage is the size of /tmp in MB.
type EphemeralStorage struct {
	Size int `json:"Size"`
}

// SnapStartResponse is the SnapStart setting (accepted and stored).
type SnapStartResponse struct {
	ApplyOn            string `json:"ApplyOn"`
	OptimizationStatus string `json:"OptimizationStatus"`
}

// RuntimeVersionConfig names the runtime build.
type RuntimeVersionConfig struct {
	RuntimeVersionArn string `json:"RuntimeVersionArn"`
}

// LoggingConfig is the advanced logging configuration.
type LoggingConfig struct {
	LogFormat           string `json:"LogFormat,omitempty"`
	ApplicationLogLevel string `json:"ApplicationLogLevel,omitempty"`
	SystemLogLevel      string `json:"SystemLogLevel,omitempty"`
	LogGroup            string `json:"LogGroup,omitempty"`
}

// VpcConfig is accepted and stored; lambdad has no VPCs.
type VpcConfig struct {
	SubnetIds               []string `json:"SubnetIds"`
	SecurityGroupIds        []string `json:"SecurityGroupIds"`
	VpcId                   string   `json:"VpcId,omitempty"`
	Ipv6AllowedForDualStack bool     `json:"Ipv6AllowedForDualStack,omitempty"`
}

// DeadLetterConfig is the async DLQ target (stored for the async issue).
type DeadLetterConfig struct {
	TargetArn string `json:"TargetArn,omitempty"`
}

// FileSystemConfig is accepted and stored; lambdad mounts no EFS.
type FileSystemConfig struct {
	Arn            string `json:"Arn"`
	LocalMountPath string `json:"LocalMountPath"`
}

// Function is the stored record of one function: its $LATEST configuration
// plus the function-level settings that are not part of a version.
type Function struct {
	Config FunctionConfiguration `json:"Config"`
	// Tags are function-level (unversioned).
	Tags map[string]string `json:"Tags,omitempty"`
	// PublishRequested records Publish:true on the last create or code
	// update: the version is published once the update completes.
	PublishRequested bool `json:"PublishRequested,omitempty"`
	// UnzippedSize is the code's total uncompressed size in bytes.
	UnzippedSize int64 `json:"UnzippedSize"`
	// LayerCode describes Config.Layers' contents, in the same order.
	LayerCode []LayerCode `json:"LayerCode,omitempty"`
	// LastVersion is the highest version number ever published (numbers
	// are never reused, even after the version is deleted).
	LastVersion int `json:"LastVersion,omitempty"`
	// SourceDescription is, on a published version, $LATEST's Description
	// when it was published (PublishVersion may give the version its own).
	SourceDescription string `json:"SourceDescription,omitempty"`
	// ReservedConcurrency is PutFunctionConcurrency's value; nil = none.
	ReservedConcurrency *int `json:"ReservedConcurrency,omitempty"`
}

// LayerCode is the content of one layer version a configuration uses.
type LayerCode struct {
	Arn          string `json:"Arn"`
	CodeSha256   string `json:"CodeSha256"`
	CodeSize     int64  `json:"CodeSize"`
	UnzippedSize int64  `json:"UnzippedSize"`
}

// Name returns the function's name.
func (f *Function) Name() string { return f.Config.FunctionName }

// Clone returns a deep copy of f so callers may mutate it freely.
func (f *Function) Clone() *Function {
	c := *f
	c.Config = f.Config.Clone()
	c.LayerCode = append([]LayerCode(nil), f.LayerCode...)
	if f.ReservedConcurrency != nil {
		n := *f.ReservedConcurrency
		c.ReservedConcurrency = &n
	}
	if f.Tags != nil {
		c.Tags = make(map[string]string, len(f.Tags))
		for k, v := range f.Tags {
			c.Tags[k] = v
		}
	}
	return &c
}

// Clone returns a deep copy of c.
func (c FunctionConfiguration) Clone() FunctionConfiguration {
	n := c
	if c.VpcConfig != nil {
		v := *c.VpcConfig
		v.SubnetIds = append([]string(nil), v.SubnetIds...)
		v.SecurityGroupIds = append([]string(nil), v.SecurityGroupIds...)
		n.VpcConfig = &v
	}
	if c.DeadLetterConfig != nil {
		v := *c.DeadLetterConfig
		n.DeadLetterConfig = &v
	}
	if c.Environment != nil {
		vars := make(map[string]string, len(c.Environment.Variables))
		for k, v := range c.Environment.Variables {
			vars[k] = v
		}
		n.Environment = &Environment{Variables: vars}
	}
	if c.TracingConfig != nil {
		v := *c.TracingConfig
		n.TracingConfig = &v
	}
	n.Layers = append([]Layer(nil), c.Layers...)
	n.FileSystemConfigs = append([]FileSystemConfig(nil), c.FileSystemConfigs...)
	n.Architectures = append([]string(nil), c.Architectures...)
	if c.EphemeralStorage != nil {
		v := *c.EphemeralStorage
		n.EphemeralStorage = &v
	}
	if c.SnapStart != nil {
		v := *c.SnapStart
		n.SnapStart = &v
	}
	if c.RuntimeVersionConfig != nil {
		v := *c.RuntimeVersionConfig
		n.RuntimeVersionConfig = &v
	}
	if c.LoggingConfig != nil {
		v := *c.LoggingConfig
		n.LoggingConfig = &v
	}
	return n
}

// ListView returns c as ListFunctions shows it: without State*,
// LastUpdateStatus* and RuntimeVersionConfig [obs].
func (c FunctionConfiguration) ListView() FunctionConfiguration {
	n := c.Clone()
	n.State, n.StateReason, n.StateReasonCode = "", "", ""
	n.LastUpdateStatus, n.LastUpdateStatusReason, n.LastUpdateStatusReasonCode = "", "", ""
	n.RuntimeVersionConfig = nil
	return n
}

// Invocable reports whether a version's state allows invocations: Active
// (or no state, for records that predate states) is fine; anything else is
// AWS's 409 naming the state, and for Failed also the reason (e.g. which
// interpreter the host lacks).
func Invocable(c *FunctionConfiguration) error {
	if c.State == StateActive || c.State == "" {
		return nil
	}
	e := ConflictPending(c.State)
	if c.State == StateFailed && c.StateReason != "" {
		e.Message += ". " + c.StateReason
	}
	return e
}
