package async

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Record is AWS's invocation record sent to destinations, field for field
// (SPEC §4.2, reference/aws-recorded/test_lambda_destinations).
type Record struct {
	Version         string           `json:"version"`
	Timestamp       string           `json:"timestamp"`
	RequestContext  RequestContext   `json:"requestContext"`
	RequestPayload  json.RawMessage  `json:"requestPayload"`
	ResponseContext *ResponseContext `json:"responseContext,omitempty"`
	ResponsePayload json.RawMessage  `json:"responsePayload,omitempty"`
}

// RequestContext identifies the invocation a record is about.
type RequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionArn            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// ResponseContext is how the last attempt ended; absent when the function
// never ran.
type ResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

// response is the end of one function run, kept for records.
type response struct {
	payload         []byte
	functionError   string
	executedVersion string
}

// newRecord builds the invocation record of ev. resp is nil when the
// function never ran.
func newRecord(now time.Time, ev *event, functionARN, condition string, attempts int, resp *response) Record {
	r := Record{
		Version:   "1.0",
		Timestamp: now.UTC().Format(timestampFormat),
		RequestContext: RequestContext{
			RequestID:              ev.RequestID,
			FunctionArn:            functionARN,
			Condition:              condition,
			ApproximateInvokeCount: attempts,
		},
		RequestPayload: rawJSON(ev.Payload),
	}
	if resp != nil {
		r.ResponseContext = &ResponseContext{StatusCode: 200, ExecutedVersion: resp.executedVersion, FunctionError: resp.functionError}
		r.ResponsePayload = rawJSON(resp.payload)
	}
	return r
}

// rawJSON embeds b as JSON: as is when it is valid JSON, "null" when
// empty, else as a JSON string.
func rawJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	if json.Valid(b) {
		return json.RawMessage(b)
	}
	s, _ := json.Marshal(string(b))
	return s
}

// derivedRequestID is the request id of a destination invocation: a
// UUID-shaped digest of the source invocation and the condition, so a
// redelivered event re-sends the record under the same id and the queue's
// dedupe drops the copy.
func derivedRequestID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// errorText summarises a function error response as "errorType:
// errorMessage" (or the raw body when it is not an error object).
func errorText(payload []byte) string {
	var e struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(payload, &e) == nil && (e.ErrorType != "" || e.ErrorMessage != "") {
		if e.ErrorType == "" {
			return e.ErrorMessage
		}
		return e.ErrorType + ": " + e.ErrorMessage
	}
	if len(payload) > 1024 {
		payload = payload[:1024]
	}
	return string(payload)
}
