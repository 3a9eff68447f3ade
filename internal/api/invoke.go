package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/lambdad/lambdad/internal/lambda"
)

// errNoInvoker is returned when the API was built without an Invoker.
var errNoInvoker = lambda.ServiceError("invoke is not available")

// parseInvoke turns an Invoke HTTP request into a lambda.InvokeRequest:
// header enums, client context (base64 JSON), payload size limits per
// invocation type, empty body as {}, body must be JSON. It does not resolve
// the function.
func parseInvoke(r *http.Request, requestID string) (*lambda.InvokeRequest, error) {
	req := &lambda.InvokeRequest{
		FunctionName:   r.PathValue("FunctionName"),
		Qualifier:      r.URL.Query().Get("Qualifier"),
		InvocationType: r.Header.Get(hdrInvocationType),
		LogType:        r.Header.Get(hdrLogType),
		RequestID:      requestID,
	}
	var v lambda.Violations
	switch req.InvocationType {
	case "":
		req.InvocationType = lambda.InvocationRequestResponse
	case lambda.InvocationRequestResponse, lambda.InvocationEvent, lambda.InvocationDryRun:
	default:
		v.Add(req.InvocationType, "invocationType", lambda.ConstraintEnum(lambda.InvocationEvent, lambda.InvocationRequestResponse, lambda.InvocationDryRun))
	}
	switch req.LogType {
	case "":
		req.LogType = lambda.LogTypeNone
	case lambda.LogTypeNone, lambda.LogTypeTail:
	default:
		v.Add(req.LogType, "logType", lambda.ConstraintEnum(lambda.LogTypeNone, lambda.LogTypeTail))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if cc := r.Header.Get(hdrClientContext); cc != "" {
		if len(cc) > lambda.MaxClientContextBytes {
			return nil, lambda.InvalidParameter("Client context must be smaller than %d bytes.", lambda.MaxClientContextBytes)
		}
		b, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || !json.Valid(b) {
			return nil, lambda.InvalidRequestContent("Client context must be a valid Base64-encoded JSON object.")
		}
		req.ClientContext = b
	}
	limit := lambda.MaxSyncPayloadBytes
	if req.InvocationType == lambda.InvocationEvent {
		limit = lambda.MaxAsyncPayloadBytes
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, lambda.InvalidRequestContent("Could not read request body: " + err.Error())
	}
	if len(body) > limit {
		return nil, lambda.RequestTooLarge(limit, "InvokeFunction")
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	// json.Valid does not allocate; decode only to word the error.
	if !json.Valid(body) {
		var probe any
		err := json.Unmarshal(body, &probe)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, lambda.InvalidRequestContent("Could not parse request body into json: Could not parse payload into json: " + err.Error())
	}
	req.Payload = body
	return req, nil
}

func (s *Server) invoke(w http.ResponseWriter, r *http.Request) error {
	// Name errors first, as AWS validates the path before the payload.
	if _, err := s.ctl.ResolveName(r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier")); err != nil {
		return err
	}
	req, err := parseInvoke(r, requestID(w))
	if err != nil {
		return err
	}
	if s.inv == nil {
		return errNoInvoker
	}
	res, err := s.inv.Invoke(r.Context(), req)
	if err != nil {
		return err
	}
	if res == nil {
		return errors.New("invoker returned no result")
	}
	h := w.Header()
	if res.FunctionError != "" {
		h.Set(hdrFunctionError, res.FunctionError)
	}
	if res.LogResult != "" {
		h.Set(hdrLogResult, res.LogResult)
	}
	if res.ExecutedVersion != "" {
		h.Set(hdrExecutedVersion, res.ExecutedVersion)
	}
	status := res.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusOK {
		h.Set("Content-Type", "application/json")
		// A known length spares the chunked encoding.
		h.Set("Content-Length", strconv.Itoa(len(res.Payload)))
	}
	w.WriteHeader(status)
	if status != http.StatusNoContent && len(res.Payload) > 0 {
		_, err = w.Write(res.Payload)
	}
	return err
}
