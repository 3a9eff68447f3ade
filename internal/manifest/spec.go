package manifest

// Spec is the canonical deploy specification of one service at one stage:
// every default applied, every short form expanded, provider settings merged
// into functions and deployed names computed. It is what the planner diffs.
type Spec struct {
	Service   string     `json:"service"`
	Stage     string     `json:"stage"`
	Region    string     `json:"region"`
	Functions []Function `json:"functions"` // sorted by Key
	Layers    []Layer    `json:"layers,omitempty"`
	// Package is the service-level packaging (package.* at the root).
	Package Package `json:"package"`
	// UseDotenv reports useDotenv: true (.env files are then also left out
	// of packages, as the Framework does).
	UseDotenv bool `json:"useDotenv,omitempty"`
	// Dir is the directory of the manifest; artifact and layer paths are
	// relative to it. File is the manifest's path as given to Load.
	Dir  string `json:"-"`
	File string `json:"-"`
}

// Function is one function of the service, after provider → function merging.
type Function struct {
	Key         string `json:"key"`  // key under functions:
	Name        string `json:"name"` // deployed name, default ${service}-${stage}-${key}
	Handler     string `json:"handler"`
	Runtime     string `json:"runtime"`
	Description string `json:"description,omitempty"`
	// Architecture is "x86_64" or "arm64".
	Architecture string `json:"architecture"`
	// MemorySize is in MB (128–10240), Timeout in seconds (1–900),
	// EphemeralStorageSize in MB of /tmp (512–10240).
	MemorySize           int               `json:"memorySize"`
	Timeout              int               `json:"timeout"`
	EphemeralStorageSize int               `json:"ephemeralStorageSize"`
	Environment          map[string]string `json:"environment,omitempty"`
	Tags                 map[string]string `json:"tags,omitempty"`
	Layers               []LayerRef        `json:"layers,omitempty"`
	// ReservedConcurrency is nil when unset (unreserved); 0 disables the function.
	ReservedConcurrency    *int `json:"reservedConcurrency,omitempty"`
	ProvisionedConcurrency int  `json:"provisionedConcurrency,omitempty"`
	// VersionFunction publishes a version per deploy when code or config changed.
	VersionFunction bool `json:"versionFunction"`
	// MaximumEventAge (seconds, 60–21600) and MaximumRetryAttempts (0–2)
	// configure asynchronous invocation; nil means the platform default.
	MaximumEventAge      *int          `json:"maximumEventAge,omitempty"`
	MaximumRetryAttempts *int          `json:"maximumRetryAttempts,omitempty"`
	Destinations         *Destinations `json:"destinations,omitempty"`
	DisableLogs          bool          `json:"disableLogs,omitempty"`
	// LogRetentionInDays is 0 when logs are kept forever.
	LogRetentionInDays int        `json:"logRetentionInDays,omitempty"`
	URL                *URLConfig `json:"url,omitempty"`
	Events             []Event    `json:"events,omitempty"`
	// Package is the function-level packaging; Individually already includes
	// the service-level setting.
	Package FunctionPackage `json:"package"`
}

// LayerRef is one entry of a function's layers: either a layer of this
// service (Layer, the key under layers:) or a published layer version ARN.
type LayerRef struct {
	Layer string `json:"layer,omitempty"`
	ARN   string `json:"arn,omitempty"`
}

// Destinations are the asynchronous invocation destinations of a function.
type Destinations struct {
	OnSuccess *Destination `json:"onSuccess,omitempty"`
	OnFailure *Destination `json:"onFailure,omitempty"`
}

// Destination is a destination target. Only functions are supported: either
// a function of this service (Function is its key, Name its deployed name) or
// a Lambda function ARN.
type Destination struct {
	Type     string `json:"type"` // "function"
	Function string `json:"function,omitempty"`
	Name     string `json:"name,omitempty"`
	ARN      string `json:"arn,omitempty"`
}

// URLConfig is a function URL.
type URLConfig struct {
	AuthType   string `json:"authType"`   // NONE or AWS_IAM
	InvokeMode string `json:"invokeMode"` // BUFFERED or RESPONSE_STREAM
	CORS       *CORS  `json:"cors,omitempty"`
}

// CORS is a cross-origin configuration (function URLs and HTTP events).
type CORS struct {
	AllowCredentials bool     `json:"allowCredentials,omitempty"`
	AllowHeaders     []string `json:"allowHeaders,omitempty"`
	AllowMethods     []string `json:"allowMethods,omitempty"`
	AllowOrigins     []string `json:"allowOrigins,omitempty"`
	ExposeHeaders    []string `json:"exposeHeaders,omitempty"`
	MaxAge           *int     `json:"maxAge,omitempty"`
}

// Package is service-level packaging.
type Package struct {
	// Patterns are ordered globs; a leading "!" excludes. Deprecated
	// include/exclude are converted into patterns.
	Patterns     []string `json:"patterns,omitempty"`
	Individually bool     `json:"individually,omitempty"`
	Artifact     string   `json:"artifact,omitempty"`
}

// FunctionPackage is function-level packaging. When Individually is true the
// function gets its own artifact whose patterns are the service patterns
// followed by Patterns.
type FunctionPackage struct {
	Patterns     []string `json:"patterns,omitempty"`
	Individually bool     `json:"individually,omitempty"`
	Artifact     string   `json:"artifact,omitempty"`
}

// Layer is one entry of the layers: section, published as a layer version.
type Layer struct {
	Key string `json:"key"`
	// Name is the published layer name (default: the key).
	Name string `json:"name"`
	// Ref is the CloudFormation logical id functions may use to reference it
	// ({Ref: <Ref>}), e.g. "HelloLambdaLayer".
	Ref                     string   `json:"ref"`
	Path                    string   `json:"path,omitempty"`
	Description             string   `json:"description,omitempty"`
	CompatibleRuntimes      []string `json:"compatibleRuntimes,omitempty"`
	CompatibleArchitectures []string `json:"compatibleArchitectures,omitempty"`
	LicenseInfo             string   `json:"licenseInfo,omitempty"`
	Retain                  bool     `json:"retain,omitempty"`
	Package                 Package  `json:"package"`
}

// Event is one trigger of a function; exactly one field besides Type is set.
type Event struct {
	Type        string            `json:"type"`
	HTTPAPI     *HTTPAPIEvent     `json:"httpApi,omitempty"`
	HTTP        *HTTPEvent        `json:"http,omitempty"`
	Schedule    *ScheduleEvent    `json:"schedule,omitempty"`
	SQS         *SQSEvent         `json:"sqs,omitempty"`
	SNS         *SNSEvent         `json:"sns,omitempty"`
	S3          *S3Event          `json:"s3,omitempty"`
	Stream      *StreamEvent      `json:"stream,omitempty"`
	EventBridge *EventBridgeEvent `json:"eventBridge,omitempty"`
}

// Event types, the keys of an events[] entry.
const (
	EventHTTPAPI     = "httpApi"
	EventHTTP        = "http"
	EventSchedule    = "schedule"
	EventSQS         = "sqs"
	EventSNS         = "sns"
	EventS3          = "s3"
	EventStream      = "stream"
	EventEventBridge = "eventBridge"
)

// HTTPAPIEvent is an API Gateway v2 HTTP API route. Path "*" with Method "*"
// is the catch-all default route.
type HTTPAPIEvent struct {
	Method  string `json:"method"` // upper case, or "*"
	Path    string `json:"path"`
	Payload string `json:"payload"` // "1.0" or "2.0"
	CORS    *CORS  `json:"cors,omitempty"`
}

// HTTPEvent is an API Gateway v1 REST route (lambda-proxy integration).
type HTTPEvent struct {
	Method  string `json:"method"` // upper case, or "ANY"
	Path    string `json:"path"`   // always with a leading "/"
	CORS    *CORS  `json:"cors,omitempty"`
	Private bool   `json:"private,omitempty"`
	Async   bool   `json:"async,omitempty"`
	// Required request parameters by location: querystrings, headers, paths.
	RequiredParameters map[string][]string `json:"requiredParameters,omitempty"`
}

// ScheduleEvent is a rate(...) or cron(...) trigger.
type ScheduleEvent struct {
	Rates       []string `json:"rates"`
	Enabled     bool     `json:"enabled"`
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	// Input is delivered instead of the scheduled-event envelope when set.
	Input    any    `json:"input,omitempty"`
	Timezone string `json:"timezone,omitempty"`
}

// SQSEvent is a queue event source mapping.
type SQSEvent struct {
	ARN                   string `json:"arn"`
	BatchSize             int    `json:"batchSize"`
	MaximumBatchingWindow int    `json:"maximumBatchingWindow,omitempty"`
	Enabled               bool   `json:"enabled"`
	FunctionResponseType  string `json:"functionResponseType,omitempty"`
	FilterPatterns        []any  `json:"filterPatterns,omitempty"`
	MaximumConcurrency    int    `json:"maximumConcurrency,omitempty"`
}

// SNSEvent is a topic subscription. Exactly one of ARN or TopicName is set;
// a TopicName topic is created by the deploy.
type SNSEvent struct {
	ARN               string `json:"arn,omitempty"`
	TopicName         string `json:"topicName,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	FilterPolicy      any    `json:"filterPolicy,omitempty"`
	FilterPolicyScope string `json:"filterPolicyScope,omitempty"`
}

// S3Event is an object notification.
type S3Event struct {
	Bucket   string   `json:"bucket"`
	Event    string   `json:"event"`
	Rules    []S3Rule `json:"rules,omitempty"`
	Existing bool     `json:"existing,omitempty"`
}

// S3Rule filters object keys; exactly one field is set.
type S3Rule struct {
	Prefix string `json:"prefix,omitempty"`
	Suffix string `json:"suffix,omitempty"`
}

// StreamEvent is a DynamoDB or Kinesis stream event source mapping.
type StreamEvent struct {
	ARN                        string `json:"arn"`
	Type                       string `json:"type"` // dynamodb or kinesis
	BatchSize                  int    `json:"batchSize"`
	StartingPosition           string `json:"startingPosition"`
	StartingPositionTimestamp  *int   `json:"startingPositionTimestamp,omitempty"`
	Enabled                    bool   `json:"enabled"`
	BatchWindow                int    `json:"batchWindow,omitempty"`
	ParallelizationFactor      int    `json:"parallelizationFactor,omitempty"`
	MaximumRetryAttempts       *int   `json:"maximumRetryAttempts,omitempty"`
	MaximumRecordAgeInSeconds  *int   `json:"maximumRecordAgeInSeconds,omitempty"`
	BisectBatchOnFunctionError bool   `json:"bisectBatchOnFunctionError,omitempty"`
	FunctionResponseType       string `json:"functionResponseType,omitempty"`
	TumblingWindowInSeconds    int    `json:"tumblingWindowInSeconds,omitempty"`
	FilterPatterns             []any  `json:"filterPatterns,omitempty"`
}

// EventBridgeEvent is an event bus rule; exactly one of Pattern or Schedule
// is set.
type EventBridgeEvent struct {
	EventBus    string `json:"eventBus,omitempty"`
	Pattern     any    `json:"pattern,omitempty"`
	Schedule    string `json:"schedule,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Enabled     bool   `json:"enabled"`
	Input       any    `json:"input,omitempty"`
	InputPath   string `json:"inputPath,omitempty"`
	// MaximumEventAge (60–86400 s) and MaximumRetryAttempts (0–185) form
	// the rule's retry policy; nil means the default.
	MaximumEventAge      *int `json:"maximumEventAge,omitempty"`
	MaximumRetryAttempts *int `json:"maximumRetryAttempts,omitempty"`
}
