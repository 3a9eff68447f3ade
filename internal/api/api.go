package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"

	"github.com/lambdad/lambdad/internal/control"
	"github.com/lambdad/lambdad/internal/lambda"
)

// Invoker runs invocations; internal/invoke implements it.
type Invoker interface {
	Invoke(ctx context.Context, req *lambda.InvokeRequest) (*lambda.InvokeResult, error)
}

// Deps are the API's dependencies.
type Deps struct {
	Control *control.Service
	// Invoker may be nil: Invoke then fails with a ServiceException.
	Invoker Invoker
	Logger  *slog.Logger
}

// Server is the Lambda API handler.
type Server struct {
	ctl *control.Service
	inv Invoker
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the API as an http.Handler.
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{ctl: d.Control, inv: d.Invoker, log: d.Logger, mux: http.NewServeMux()}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Header names.
const (
	hdrRequestID       = "X-Amzn-Requestid"
	hdrErrorType       = "X-Amzn-Errortype"
	hdrInvocationType  = "X-Amz-Invocation-Type"
	hdrLogType         = "X-Amz-Log-Type"
	hdrClientContext   = "X-Amz-Client-Context"
	hdrFunctionError   = "X-Amz-Function-Error"
	hdrLogResult       = "X-Amz-Log-Result"
	hdrExecutedVersion = "X-Amz-Executed-Version"
	hdrRetryAfter      = "Retry-After"
)

// requestID returns the x-amzn-RequestId handle assigned to the response
// (kept in its header rather than a request context, which would cost a
// copy of the request on every call).
func requestID(w http.ResponseWriter) string { return w.Header().Get(hdrRequestID) }

// newRequestID returns a random (version 4) UUID. Request ids need
// uniqueness, not secrecy: the runtime's fast generator spares a getrandom
// call per request.
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], mathrand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], mathrand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// handlerFunc is an API operation; an error is rendered by handle.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts an operation: it assigns the request ID, sets the header,
// and renders any error in AWS's format.
func (s *Server) handle(op string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(hdrRequestID, newRequestID())
		if err := h(w, r); err != nil {
			s.writeError(w, r, op, err)
		}
	}
}

// writeJSON writes v with status; HTML characters are not escaped (AWS
// does not escape them either).
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err := w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
	return err
}

// decodeJSON reads a JSON body of at most limit bytes into v. An empty body
// decodes as {}. op names the operation in AWS's size-limit message.
func decodeJSON(r *http.Request, w http.ResponseWriter, v any, limit int64, op string) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return lambda.RequestEntityTooLarge(fmt.Sprintf("Request must be smaller than %d bytes for the %s operation", limit, op))
	}
	if err != nil {
		return lambda.InvalidRequestContent("Could not read request body: " + err.Error())
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return lambda.InvalidRequestContent("Could not parse request body into json: " + err.Error())
	}
	return nil
}
