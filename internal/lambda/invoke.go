package lambda

// Invocation types (X-Amz-Invocation-Type) and log types (X-Amz-Log-Type).
const (
	InvocationRequestResponse = "RequestResponse"
	InvocationEvent           = "Event"
	InvocationDryRun          = "DryRun"

	LogTypeNone = "None"
	LogTypeTail = "Tail"

	// FunctionErrorUnhandled is the X-Amz-Function-Error value for every
	// function or runtime error.
	FunctionErrorUnhandled = "Unhandled"
)

// InvokeRequest is one Invoke API call as parsed by api.
type InvokeRequest struct {
	FunctionName, Qualifier string // as given by the caller (FunctionName may be an ARN)
	InvocationType          string // "RequestResponse" | "Event" | "DryRun"
	LogType                 string // "None" | "Tail"
	ClientContext           []byte // decoded JSON from X-Amz-Client-Context (base64 in the header), nil if absent
	Payload                 []byte // "{}" when the body was empty; already validated as JSON
	RequestID               string // the x-amzn-RequestId of this API call
}

// InvokeResult is the outcome of an invocation as the API returns it.
type InvokeResult struct {
	StatusCode      int    // 200, 202 (Event) or 204 (DryRun)
	Payload         []byte // response body
	FunctionError   string // "" or "Unhandled" -> X-Amz-Function-Error
	LogResult       string // base64 tail -> X-Amz-Log-Result, "" if none
	ExecutedVersion string // X-Amz-Executed-Version
}
