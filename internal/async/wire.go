package async

// Wire names and AWS strings of the package, in one place.

// Stream, consumer and header names.
const (
	StreamName    = "ASYNC"
	DLQStreamName = "ASYNC_DLQ"
	ConsumerName  = "async-workers"

	subjectPrefix = "async."
	dlqPrefix     = "dlq."

	hdrRequestID  = "Lambdad-Request-Id"
	hdrFunction   = "Lambdad-Function"
	hdrQualifier  = "Lambdad-Qualifier" // as invoked; "" = unqualified
	hdrInvokedARN = "Lambdad-Invoked-Arn"
	hdrEnqueued   = "Lambdad-Enqueued"    // unix nanoseconds
	hdrAttempt    = "Lambdad-Attempt"     // function-error attempts made so far
	hdrNotBefore  = "Lambdad-Not-Before"  // unix nanoseconds; absent = now
	hdrTraceID    = "Lambdad-Trace-Id"    // X-Ray header kept across attempts
	hdrPayloadLen = "Lambdad-Payload-Len" // set when the last response follows the event
	hdrLastError  = "Lambdad-Last-Function-Error"
	hdrLastVer    = "Lambdad-Last-Executed-Version"

	// headerAllowance is room for headers above the 1 MB event payload.
	headerAllowance = 64 << 10
	// maxCarriedResponse caps the last error response carried in a retry
	// and stored in a DLQ entry; larger ones are dropped with a note.
	maxCarriedResponse = 256 << 10
)

// Invocation record conditions (SPEC §4.2).
const (
	CondSuccess          = "Success"
	CondRetriesExhausted = "RetriesExhausted"
	CondEventAgeExceeded = "EventAgeExceeded"
	// CondZeroReservedConcurrency is the condition LocalStack records for
	// events of a function with reserved concurrency 0, which AWS fails
	// without running (SPEC §4.2); AWS's own value was not observed.
	CondZeroReservedConcurrency = "ZeroReservedConcurrency"
)

// timestampFormat is AWS's record timestamp: ISO 8601, milliseconds, Z.
const timestampFormat = "2006-01-02T15:04:05.000Z"

// AWS messages of event invoke config validation [obs].
const (
	MsgNothingSet      = "You must specify at least one of error handling or destination setting."
	MsgSelfDestination = "You can't specify the function as a destination for itself."
	msgDestInvalidFmt  = "The destination ARN %s is invalid."
	msgConfigInvalid   = "The provided destination config %s is invalid."
	msgNoConfigFmt     = "The function %s doesn't have an EventInvokeConfig"
	MsgFunctionMissing = "The function doesn't exist."
)

// PatternDestination is the model pattern of OnSuccess/OnFailure.Destination,
// as AWS prints it in ValidationException messages [obs].
const PatternDestination = `$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)`
