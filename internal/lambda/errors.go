package lambda

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Lambda error types as sent in x-amzn-ErrorType.
const (
	ErrTypeResourceNotFound       = "ResourceNotFoundException"
	ErrTypeResourceConflict       = "ResourceConflictException"
	ErrTypeInvalidParameterValue  = "InvalidParameterValueException"
	ErrTypeValidation             = "ValidationException"
	ErrTypePreconditionFailed     = "PreconditionFailedException"
	ErrTypeTooManyRequests        = "TooManyRequestsException"
	ErrTypeRequestTooLarge        = "RequestTooLargeException"
	ErrTypeRequestEntityTooLarge  = "RequestEntityTooLargeException"
	ErrTypeService                = "ServiceException"
	ErrTypeInvalidRequestContent  = "InvalidRequestContentException"
	ErrTypeUnsupportedMediaType   = "UnsupportedMediaTypeException"
	ErrTypeAccessDenied           = "AccessDeniedException"
	ErrTypeUnknownOperation       = "UnknownOperationException"
	ErrTypeCodeStorageExceeded    = "CodeStorageExceededException"
	ErrTypeResourceNotReady       = "ResourceNotReadyException"
	ErrTypeInvalidZipFile         = "InvalidZipFileException"
	ErrTypeInvalidRuntime         = "InvalidRuntimeException"
	ErrTypeSerializedRequestLarge = "SerializedRequestEntityTooLargeException"
)

// TooManyRequestsException reasons.
const (
	ReasonConcurrentInvocationLimitExceeded         = "ConcurrentInvocationLimitExceeded"
	ReasonFunctionInvocationRateLimitExceeded       = "FunctionInvocationRateLimitExceeded"
	ReasonReservedFunctionConcurrentInvocationLimit = "ReservedFunctionConcurrentInvocationLimitExceeded"
	ReasonReservedFunctionInvocationRateLimit       = "ReservedFunctionInvocationRateLimitExceeded"
	ReasonCallerRateLimitExceeded                   = "CallerRateLimitExceeded"
)

// Exact AWS messages [obs].
const (
	MsgRevisionMismatch   = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
	MsgQualifierMismatch  = "The derived qualifier from the function name does not match the specified qualifier."
	MsgCouldNotUnzip      = "Could not unzip uploaded file. Please check your file, then try to upload again."
	MsgRateExceeded       = "Rate Exceeded."
	MsgDeleteLatest       = "$LATEST version cannot be deleted without deleting the function."
	MsgDeleteAlias        = "Deletion of aliases is not currently supported."
	MsgRuntimeHandlerReq  = "Runtime and Handler are mandatory parameters for functions created with deployment packages."
	msgPendingPrefix      = "The operation cannot be performed at this time. The function is currently in the following state: "
	msgInProgressPrefix   = "The operation cannot be performed at this time. An update is in progress for resource: "
	msgRequestTooLargeFmt = "Request must be smaller than %d bytes for the %s operation"
)

// Error is a Lambda API error: its wire type, message, HTTP status and, for
// throttles, the reason and Retry-After seconds. Every package returns
// *Error for client-visible failures; api renders it.
type Error struct {
	Type       string
	Message    string
	Status     int
	Reason     string // TooManyRequestsException only
	RetryAfter int    // seconds, TooManyRequestsException only; 0 = no header
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Is reports whether target is an *Error of the same Type, so
// errors.Is(err, &lambda.Error{Type: lambda.ErrTypeResourceNotFound}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Type == e.Type && (t.Message == "" || t.Message == e.Message)
}

func newErr(typ string, status int, msg string) *Error {
	return &Error{Type: typ, Message: msg, Status: status}
}

// NotFound is a 404 ResourceNotFoundException.
func NotFound(msg string) *Error {
	return newErr(ErrTypeResourceNotFound, http.StatusNotFound, msg)
}

// FunctionNotFound is AWS's "Function not found: <arn>" 404.
func FunctionNotFound(arn string) *Error { return NotFound("Function not found: " + arn) }

// Conflict is a 409 ResourceConflictException.
func Conflict(msg string) *Error {
	return newErr(ErrTypeResourceConflict, http.StatusConflict, msg)
}

// ConflictPending is the 409 for operations on a function in a non-Active state.
func ConflictPending(state string) *Error { return Conflict(msgPendingPrefix + state) }

// ConflictInProgress is the 409 for a mutation while an update is in progress.
func ConflictInProgress(unqualifiedARN string) *Error {
	return Conflict(msgInProgressPrefix + unqualifiedARN)
}

// InvalidParameter is a 400 InvalidParameterValueException.
func InvalidParameter(format string, args ...any) *Error {
	return newErr(ErrTypeInvalidParameterValue, http.StatusBadRequest, sprintf(format, args...))
}

// Validation is a 400 ValidationException with a prebuilt message.
func Validation(msg string) *Error {
	return newErr(ErrTypeValidation, http.StatusBadRequest, msg)
}

// PreconditionFailed is the 412 for a RevisionId mismatch.
func PreconditionFailed() *Error {
	return newErr(ErrTypePreconditionFailed, http.StatusPreconditionFailed, MsgRevisionMismatch)
}

// TooManyRequests is a 429 throttle with its reason.
func TooManyRequests(reason, msg string, retryAfter int) *Error {
	e := newErr(ErrTypeTooManyRequests, http.StatusTooManyRequests, msg)
	e.Reason, e.RetryAfter = reason, retryAfter
	return e
}

// RequestTooLarge is the 413 for an Invoke payload above limit bytes.
func RequestTooLarge(limit int, operation string) *Error {
	return newErr(ErrTypeRequestTooLarge, http.StatusRequestEntityTooLarge, fmt.Sprintf(msgRequestTooLargeFmt, limit, operation))
}

// RequestEntityTooLarge is the 413 for oversized control-plane bodies.
func RequestEntityTooLarge(msg string) *Error {
	return newErr(ErrTypeRequestEntityTooLarge, http.StatusRequestEntityTooLarge, msg)
}

// ServiceError is a 500 ServiceException.
func ServiceError(msg string) *Error {
	return newErr(ErrTypeService, http.StatusInternalServerError, msg)
}

// InvalidRequestContent is a 400 InvalidRequestContentException.
func InvalidRequestContent(msg string) *Error {
	return newErr(ErrTypeInvalidRequestContent, http.StatusBadRequest, msg)
}

// UnsupportedMediaType is a 415 UnsupportedMediaTypeException.
func UnsupportedMediaType(msg string) *Error {
	return newErr(ErrTypeUnsupportedMediaType, http.StatusUnsupportedMediaType, msg)
}

// AccessDenied is a 403 AccessDeniedException.
func AccessDenied(msg string) *Error {
	return newErr(ErrTypeAccessDenied, http.StatusForbidden, msg)
}

// UnknownOperation is the 404 for a path/method the API does not serve.
func UnknownOperation() *Error {
	return newErr(ErrTypeUnknownOperation, http.StatusNotFound, "Unknown operation")
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// Violations collects model-constraint violations and renders them as one
// ValidationException the way AWS does ("2 validation errors detected: a; b").
type Violations []string

// Add records that value at field (lowerCamelCase) violates constraint.
func (v *Violations) Add(value, field, constraint string) {
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint))
}

// Err returns nil or the ValidationException.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	return Validation(v.Message())
}

// Message renders the violations with AWS's "N validation error(s) detected" prefix.
func (v Violations) Message() string {
	noun := "errors"
	if len(v) == 1 {
		noun = "error"
	}
	return strconv.Itoa(len(v)) + " validation " + noun + " detected: " + strings.Join(v, "; ")
}

// Constraint phrases used in ValidationException messages.
func ConstraintPattern(re string) string {
	return "Member must satisfy regular expression pattern: " + re
}

// ConstraintMaxLen is "Member must have length less than or equal to n".
func ConstraintMaxLen(n int) string {
	return "Member must have length less than or equal to " + strconv.Itoa(n)
}

// ConstraintMinLen is "Member must have length greater than or equal to n".
func ConstraintMinLen(n int) string {
	return "Member must have length greater than or equal to " + strconv.Itoa(n)
}

// ConstraintMax is "Member must have value less than or equal to n".
func ConstraintMax(n int) string {
	return "Member must have value less than or equal to " + strconv.Itoa(n)
}

// ConstraintMin is "Member must have value greater than or equal to n".
func ConstraintMin(n int) string {
	return "Member must have value greater than or equal to " + strconv.Itoa(n)
}

// ConstraintEnum is "Member must satisfy enum value set: [a, b]".
func ConstraintEnum(values ...string) string {
	return "Member must satisfy enum value set: [" + strings.Join(values, ", ") + "]"
}
