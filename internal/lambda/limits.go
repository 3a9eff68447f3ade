package lambda

// Limits (operations.md §8). Sizes in bytes unless noted.
const (
	MaxFunctionNameLen      = 64
	MaxFunctionParamLen     = 140 // FunctionName parameter, unqualified forms (RE_FN)
	MaxNSFunctionParamLen   = 256 // NamespacedFunctionName (RE_NSFN)
	MaxQualifierLen         = 128
	MaxHandlerLen           = 128
	MaxDescriptionLen       = 256
	MinMemoryMB             = 128
	MaxMemoryMB             = 10240
	ModelMaxMemoryMB        = 32768
	DefaultMemoryMB         = 128
	MinTimeoutSec           = 1
	MaxTimeoutSec           = 900
	DefaultTimeoutSec       = 3
	MinEphemeralMB          = 512
	MaxEphemeralMB          = 10240
	DefaultEphemeralMB      = 512
	MaxEnvironmentBytes     = 4096
	MaxLayers               = 5
	MaxTags                 = 50
	MaxTagKeyLen            = 128
	MaxTagValueLen          = 256
	MaxZippedCodeBytes      = 52428800  // direct upload, decoded
	MaxUnzippedCodeBytes    = 262144000 // function + layers
	MaxCreateRequestBytes   = 70167211  // whole CreateFunction / UpdateFunctionCode request
	MaxSyncPayloadBytes     = 6291456   // RequestResponse request
	MaxAsyncPayloadBytes    = 1048576   // Event request
	MaxClientContextBytes   = 3583      // base64-encoded header
	DefaultTotalCodeSize    = 80530636800
	DefaultConcurrencyLimit = 1000
	MinUnreservedConcurrent = 100
	MaxListItems            = 50
)

// SupportedRuntimes are the runtime ids AWS accepted for CreateFunction in
// Nov 2025, in the order of AWS's own error message [obs].
var supportedRuntimes = []string{
	"nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13", "nodejs24.x",
	"nodejs22.x", "java25", "python3.10", "python3.11", "java21", "ruby3.3", "ruby3.4",
	"ruby3.2", "python3.8", "python3.9", "java17", "nodejs16.x", "dotnet10", "dotnet8",
	"java11", "dotnet6", "nodejs18.x", "provided.al2", "java8.al2",
}

// deprecatedRuntimes are in the model's Runtime enum but rejected for
// creates and updates.
var deprecatedRuntimes = []string{
	"nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x",
	"nodejs14.x", "java8", "python2.7", "python3.6", "python3.7", "dotnetcore1.0",
	"dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "nodejs4.3-edge", "go1.x",
	"ruby2.5", "ruby2.7", "provided", "dotnet6.0",
}

// SupportedRuntimes returns the runtime ids accepted by CreateFunction and
// UpdateFunctionConfiguration, in AWS's error-message order.
func SupportedRuntimes() []string { return append([]string(nil), supportedRuntimes...) }

// IsSupportedRuntime reports whether id may be used for a new or updated function.
func IsSupportedRuntime(id string) bool { return contains(supportedRuntimes, id) }

// IsDeprecatedRuntime reports whether id is a model runtime AWS no longer accepts.
func IsDeprecatedRuntime(id string) bool { return contains(deprecatedRuntimes, id) }

// ReservedEnvKeys may not be set in Environment.Variables (SPEC §2.3).
var reservedEnvKeys = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

// IsReservedEnvKey reports whether k is a reserved Lambda variable name.
func IsReservedEnvKey(k string) bool { return contains(reservedEnvKeys, k) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
