package runtimeapi

// Header names of the Runtime API 2018-06-01 (SPEC §2.4).
const (
	HeaderRequestID       = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMs      = "Lambda-Runtime-Deadline-Ms"
	HeaderInvokedARN      = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID         = "Lambda-Runtime-Trace-Id"
	HeaderClientContext   = "Lambda-Runtime-Client-Context"
	HeaderCognitoIdentity = "Lambda-Runtime-Cognito-Identity"
	HeaderTenantID        = "Lambda-Runtime-Aws-Tenant-Id"
	HeaderErrorType       = "Lambda-Runtime-Function-Error-Type"
	HeaderErrorBody       = "Lambda-Runtime-Function-Error-Body"
	HeaderResponseMode    = "Lambda-Runtime-Function-Response-Mode"
)

// Content types the API reads or writes.
const (
	contentTypeJSON       = "application/json"
	contentTypeErrorCause = "application/vnd.aws.lambda.error.cause+json"
	responseModeStreaming = "streaming"
)

// MaxResponseBytes is the largest /response or /error body a runtime may
// post: 6 MiB + 100 bytes, as on AWS.
const MaxResponseBytes = 6291556

// Error types the API answers the runtime with.
const (
	errInvalidRequestID       = "InvalidRequestID"
	errInvalidStateTransition = "InvalidStateTransition"
	errRequestEntityTooLarge  = "RequestEntityTooLarge"
	errInvalidResponseMode    = "InvalidFunctionResponseMode"
	errTruncatedHTTPRequest   = "TruncatedHTTPRequest"
	errInternalServerError    = "InternalServerError"
	errTelemetryNotSupported  = "Telemetry.NotSupported"
	errLogsNotSupported       = "Logs.NotSupported"
)

// Messages of the errors above, exactly as RIE renders them.
const (
	msgInvalidRequestID      = "Invalid request ID"
	msgRequestTooLarge       = "Exceeded maximum allowed payload size (6291556 bytes)."
	msgInvalidResponseMode   = "Invalid function response mode"
	msgTruncatedHTTPRequest  = "HTTP request detected as truncated"
	msgInternalServerError   = "Internal Server Error"
	msgTelemetryNotSupported = "Telemetry API is not supported"
	msgLogsNotSupported      = "Logs API is not supported"
	msgTransitionFormat      = "State transition from %s to %s failed for runtime. Error: State transition is not allowed"
)

// Runtime state names as RIE's core package reports them in
// InvalidStateTransition messages.
const (
	stateNameStarted      = "RuntimeStartedState"
	stateNameInitError    = "RuntimeInitErrorState"
	stateNameReady        = "RuntimeReadyState"
	stateNameRunning      = "RuntimeRunningState"
	stateNameResponseSent = "RuntimeResponseSentState"
)

// Transition names (the target of a refused transition).
const (
	transInvocationResponse      = "InvocationResponse"
	transInvocationErrorResponse = "InvocationErrorResponse"
	transInitError               = "InitError"
)
