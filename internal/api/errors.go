package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/lambdad/lambdad/internal/lambda"
)

// wireShape is how one error type is rendered: whether the body's message
// member is "message" or "Message" (AWS is inconsistent, SDKs model both),
// and the Type member ("User", "Service" or none for unmodeled errors).
type wireShape struct {
	lowerMessage bool
	fault        string
}

// errorTable is the single table of Lambda error types → body shape
// (operations.md §6). Status codes come from the lambda.Error itself.
var errorTable = map[string]wireShape{
	lambda.ErrTypeResourceNotFound:       {lowerMessage: false, fault: "User"},
	lambda.ErrTypeResourceConflict:       {lowerMessage: true, fault: "User"},
	lambda.ErrTypeInvalidParameterValue:  {lowerMessage: true, fault: "User"},
	lambda.ErrTypeInvalidRequestContent:  {lowerMessage: true, fault: "User"},
	lambda.ErrTypePreconditionFailed:     {lowerMessage: true, fault: "User"},
	lambda.ErrTypeTooManyRequests:        {lowerMessage: true, fault: "User"},
	lambda.ErrTypeRequestTooLarge:        {lowerMessage: true, fault: "User"},
	lambda.ErrTypeUnsupportedMediaType:   {lowerMessage: true, fault: "User"},
	lambda.ErrTypeCodeStorageExceeded:    {lowerMessage: true, fault: "User"},
	lambda.ErrTypeSerializedRequestLarge: {lowerMessage: true, fault: "User"},
	lambda.ErrTypeResourceNotReady:       {lowerMessage: true, fault: "Service"},
	lambda.ErrTypeService:                {lowerMessage: false, fault: "Service"},
	lambda.ErrTypeInvalidZipFile:         {lowerMessage: false, fault: "Service"},
	lambda.ErrTypeInvalidRuntime:         {lowerMessage: false, fault: "Service"},
	// Not modeled exceptions: no Type member.
	lambda.ErrTypeValidation:            {lowerMessage: true},
	lambda.ErrTypeRequestEntityTooLarge: {lowerMessage: true},
	lambda.ErrTypeAccessDenied:          {lowerMessage: false},
	lambda.ErrTypeUnknownOperation:      {lowerMessage: true},
}

// writeError renders err. A *lambda.Error keeps its type, status and
// message; anything else is a logged 500 ServiceException carrying the
// request ID.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, op string, err error) {
	id := requestID(w)
	var le *lambda.Error
	if !errors.As(err, &le) {
		s.log.Error("api request failed", "op", op, "request_id", id, "err", err)
		le = lambda.ServiceError("An internal error occurred while processing the request. Request ID: " + id)
	} else if le.Status >= 500 {
		s.log.Error("api request failed", "op", op, "request_id", id, "err", err)
	} else {
		s.log.Debug("api request rejected", "op", op, "request_id", id, "err", err)
	}
	shape, ok := errorTable[le.Type]
	if !ok {
		shape = wireShape{lowerMessage: true, fault: "User"}
		if le.Status >= 500 {
			shape = wireShape{fault: "Service"}
		}
	}
	body := map[string]string{}
	if shape.lowerMessage {
		body["message"] = le.Message
	} else {
		body["Message"] = le.Message
	}
	if shape.fault != "" {
		body["Type"] = shape.fault
	}
	if le.Reason != "" {
		body["Reason"] = le.Reason
	}
	if le.RetryAfter > 0 {
		w.Header().Set(hdrRetryAfter, strconv.Itoa(le.RetryAfter))
	}
	w.Header().Set(hdrErrorType, le.Type)
	status := le.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, body)
}
