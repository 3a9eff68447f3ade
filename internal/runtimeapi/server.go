// Package runtimeapi serves the Lambda Runtime API 2018-06-01 for ONE
// execution environment: the long-polled GET /runtime/invocation/next, the
// /response and /error posts of an invocation and /runtime/init/error, with
// the state rules of RIE's core package (SPEC §2.4–2.5).
//
// The environment drives a [Server] with [Server.Deliver] and learns what the
// runtime did from [Server.Events]. Runtime states and transitions:
//
//	Started ──/next──► Ready ──Deliver+/next──► Running ──/response|/error──► ResponseSent
//	   │                  ▲                        │ (/next again re-renders     │
//	   │                  └───────── /next ────────┼── the same event)  ◄────────┘
//	   └──/init/error──► InitError                 └─ body > 6291556 bytes: 413, ResponseSent
//
// Every accepted transition produces exactly one [Event]: Ready on the first
// /next, Response/Error/TooLarge on the answer, Done when the runtime comes
// back to /next after answering, InitError on /init/error.
//
// This package imports only the standard library.
package runtimeapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ErrBusy is returned by Deliver while an invocation is pending or running.
var ErrBusy = errors.New("invocation already in progress")

// ErrClosed is returned by Deliver after Close.
var ErrClosed = errors.New("runtime api closed")

// Invocation is one event to hand to the runtime.
type Invocation struct {
	RequestID       string
	Payload         []byte    // raw event bytes, rendered as the /next body
	Deadline        time.Time // rendered as Lambda-Runtime-Deadline-Ms
	InvokedARN      string
	TraceID         string
	ClientContext   string // decoded JSON; header omitted when empty
	CognitoIdentity string // JSON; header omitted when empty
	TenantID        string // header omitted when empty
}

// EventKind says what the runtime did.
type EventKind uint8

// Event kinds, in the order they can occur for one invocation.
const (
	// EventReady: the runtime's first /next; INIT is done.
	EventReady EventKind = iota + 1
	// EventInitError: the runtime posted /runtime/init/error.
	EventInitError
	// EventResponse: the runtime posted /response for the current invocation.
	EventResponse
	// EventError: the runtime posted /error (or a streamed response ended
	// with error trailers).
	EventError
	// EventTooLarge: the runtime's /response or /error body exceeded
	// MaxResponseBytes; it was answered 413.
	EventTooLarge
	// EventDone: the runtime called /next after answering; the invocation
	// is complete.
	EventDone
)

var kindNames = [...]string{"", "ready", "init-error", "response", "error", "too-large", "done"}

func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one accepted runtime transition.
type Event struct {
	Kind        EventKind
	RequestID   string // the invocation it belongs to ("" for Ready/InitError)
	Body        []byte // Response/Error/InitError: the posted body (errorCause stripped)
	ContentType string // of the posted body
	ErrorType   string // Lambda-Runtime-Function-Error-Type, if sent
}

type state uint8

const (
	stStarted state = iota
	stReady
	stRunning
	stResponseSent
	stInitError
)

var stateNames = [...]string{stateNameStarted, stateNameReady, stateNameRunning, stateNameResponseSent, stateNameInitError}

// pending is an invocation with its header values prepared once.
type pending struct {
	vals     [7]string
	id       string
	payload  []byte
	idH      []string
	deadline []string
	arn      []string
	trace    []string
	cc       []string
	cognito  []string
	tenant   []string
}

// Server is the Runtime API of one environment. It is safe for concurrent
// use.
type Server struct {
	logger *slog.Logger
	mux    *http.ServeMux
	srv    *http.Server
	events chan Event
	hook   func(Event) bool
	closed chan struct{}
	once   sync.Once

	mu   sync.Mutex
	st   state
	next *pending      // delivered, not yet rendered
	cur  *pending      // the current (or last) invocation
	wake chan struct{} // closed and replaced when next is set
}

// New returns a Server in state Started.
func New(logger *slog.Logger) *Server {
	s := &Server{
		logger: logger,
		events: make(chan Event, 4),
		closed: make(chan struct{}),
		wake:   make(chan struct{}),
	}
	s.mux = s.routes()
	// No read, write or idle timeouts: /next long-polls for as long as the
	// environment stays warm (and frozen).
	s.srv = &http.Server{Handler: s.mux, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	return s
}

// Handler returns the HTTP handler (for tests and custom serving).
func (s *Server) Handler() http.Handler { return s.mux }

// Serve serves the API on ln until Close. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("serve runtime api: %w", err)
	}
	return nil
}

// Close stops serving: waiting /next calls are answered 500, further
// deliveries fail with ErrClosed. Idempotent.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.closed) })
	return s.srv.Close()
}

// SetHook makes the server offer every event to hook before sending it on
// Events; an event hook consumes (returns true for) is not sent. hook runs
// on the goroutine serving the runtime's request, before that request is
// answered. Call it before Serve.
func (s *Server) SetHook(hook func(Event) bool) { s.hook = hook }

// Events reports the runtime's accepted transitions. The environment must
// keep receiving while an invocation or INIT is in progress.
func (s *Server) Events() <-chan Event { return s.events }

// Deliver queues inv for the runtime's pending or next /next. The deadline
// and header values are fixed now.
func (s *Server) Deliver(inv *Invocation) error {
	// One allocation holds every header value.
	vals := [7]string{inv.RequestID, strconv.FormatInt(inv.Deadline.UnixMilli(), 10), inv.InvokedARN, inv.TraceID, inv.ClientContext, inv.CognitoIdentity, inv.TenantID}
	p := &pending{id: inv.RequestID, payload: inv.Payload}
	p.vals = vals
	p.idH = p.vals[0:1:1]
	p.deadline = p.vals[1:2:2]
	p.arn = p.vals[2:3:3]
	p.trace = p.vals[3:4:4]
	if inv.ClientContext != "" {
		p.cc = p.vals[4:5:5]
	}
	if inv.CognitoIdentity != "" {
		p.cognito = p.vals[5:6:6]
	}
	if inv.TenantID != "" {
		p.tenant = p.vals[6:7:7]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
		return ErrClosed
	default:
	}
	if s.next != nil || s.st == stRunning || s.st == stResponseSent || s.st == stInitError {
		return ErrBusy
	}
	s.next = p
	close(s.wake)
	s.wake = make(chan struct{})
	return nil
}

// emit hands ev to the environment unless the server is closed.
func (s *Server) emit(ev Event) {
	if s.hook != nil && s.hook(ev) {
		return
	}
	select {
	case s.events <- ev:
	case <-s.closed:
	}
}

var (
	jsonCT   = []string{contentTypeJSON}
	okBody   = []byte(`{"status":"OK"}`)
	errAbort = &apiError{http.StatusInternalServerError, errInternalServerError, msgInternalServerError}
)

// handleNext is the long poll. It is the hot path: no allocation beyond what
// net/http does.
func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) {
	for {
		s.mu.Lock()
		var ev Event
		var p *pending
		switch s.st {
		case stStarted:
			s.st = stReady
			ev = Event{Kind: EventReady}
		case stResponseSent:
			s.st = stReady
			ev = Event{Kind: EventDone, RequestID: s.cur.id}
		case stRunning:
			p = s.cur // repeated /next: render the same event again
		}
		if p == nil && s.st == stReady && s.next != nil {
			p = s.next
			s.next = nil
			s.cur = p
			s.st = stRunning
		}
		wake := s.wake
		s.mu.Unlock()
		if ev.Kind != 0 {
			s.emit(ev)
		}
		if p != nil {
			h := w.Header()
			h["Content-Type"] = jsonCT
			h[HeaderRequestID] = p.idH
			h[HeaderDeadlineMs] = p.deadline
			h[HeaderInvokedARN] = p.arn
			h[HeaderTraceID] = p.trace
			if p.cc != nil {
				h[HeaderClientContext] = p.cc
			}
			if p.cognito != nil {
				h[HeaderCognitoIdentity] = p.cognito
			}
			if p.tenant != nil {
				h[HeaderTenantID] = p.tenant
			}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(p.payload)
			return
		}
		select {
		case <-wake:
		case <-r.Context().Done():
			return
		case <-s.closed:
			writeError(w, http.StatusInternalServerError, errInternalServerError, msgInternalServerError)
			return
		}
	}
}

// apiError is an error answer to the runtime.
type apiError struct {
	status int
	typ    string
	msg    string
}

func (e *apiError) Error() string { return e.typ + ": " + e.msg }

func transitionError(from state, to string) *apiError {
	return &apiError{http.StatusForbidden, errInvalidStateTransition, fmt.Sprintf(msgTransitionFormat, stateNames[from], to)}
}

// adapt turns a handler returning error into an http.HandlerFunc; success
// is 202 {"status":"OK"}.
func (s *Server) adapt(h func(r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(r)
		if err == nil {
			w.Header()["Content-Type"] = jsonCT
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write(okBody)
			return
		}
		var ae *apiError
		if errors.As(err, &ae) {
			if ae.status == http.StatusAccepted {
				// Unsupported-API answers are 202 with an error body.
				writeError(w, ae.status, ae.typ, ae.msg)
				return
			}
			s.logger.Debug("runtime api request refused", "path", r.URL.Path, "status", ae.status, "err", ae.typ)
			writeError(w, ae.status, ae.typ, ae.msg)
			return
		}
		s.logger.Error("runtime api request failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, errInternalServerError, msgInternalServerError)
	}
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	body, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{msg, typ})
	w.Header()["Content-Type"] = jsonCT
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func notSupported(typ, msg string) func(*http.Request) error {
	return func(*http.Request) error {
		return &apiError{http.StatusAccepted, typ, msg}
	}
}

// checkAnswer validates that the runtime may answer invocation id now and
// returns the state to report the answer from.
func (s *Server) checkAnswer(id, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
		return errAbort
	default:
	}
	if s.cur == nil || s.cur.id != id {
		if s.cur != nil || s.st == stRunning {
			return &apiError{http.StatusBadRequest, errInvalidRequestID, msgInvalidRequestID}
		}
		return transitionError(s.st, to)
	}
	if s.st != stRunning {
		return transitionError(s.st, to)
	}
	return nil
}

// commit moves Running → ResponseSent for id and emits ev, unless another
// answer won the race.
func (s *Server) commit(id, to string, ev Event) error {
	s.mu.Lock()
	if s.cur == nil || s.cur.id != id || s.st != stRunning {
		st := s.st
		s.mu.Unlock()
		return transitionError(st, to)
	}
	s.st = stResponseSent
	s.mu.Unlock()
	s.emit(ev)
	return nil
}

// readBody reads the whole body up to MaxResponseBytes. tooLarge reports a
// body over the limit.
func readBody(r *http.Request) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > MaxResponseBytes {
		return nil, true, nil
	}
	size := 512
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	n, err := buf.ReadFrom(io.LimitReader(r.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, false, err
	}
	if n > MaxResponseBytes {
		return nil, true, nil
	}
	return buf.Bytes(), false, nil
}

func (s *Server) handleResponse(r *http.Request) error {
	id := r.PathValue("id")
	if err := s.checkAnswer(id, transInvocationResponse); err != nil {
		return err
	}
	if mode := r.Header.Get(HeaderResponseMode); mode != "" && mode != responseModeStreaming {
		return &apiError{http.StatusBadRequest, errInvalidResponseMode, msgInvalidResponseMode}
	}
	body, tooLarge, err := readBody(r)
	if err != nil {
		return &apiError{http.StatusBadRequest, errTruncatedHTTPRequest, msgTruncatedHTTPRequest}
	}
	if tooLarge {
		if err := s.commit(id, transInvocationResponse, Event{Kind: EventTooLarge, RequestID: id}); err != nil {
			return err
		}
		return &apiError{http.StatusRequestEntityTooLarge, errRequestEntityTooLarge, msgRequestTooLarge}
	}
	ev := Event{Kind: EventResponse, RequestID: id, Body: body, ContentType: r.Header.Get("Content-Type")}
	// A streamed body (aws-lambda-go streams io.Reader results) reports a
	// mid-stream failure in trailers; the answer is then an error.
	if typ := r.Trailer.Get(HeaderErrorType); typ != "" {
		ev.Kind = EventError
		ev.ErrorType = typ
		ev.ContentType = contentTypeJSON
		ev.Body = trailerErrorBody(typ, r.Trailer.Get(HeaderErrorBody))
	}
	return s.commit(id, transInvocationResponse, ev)
}

// trailerErrorBody decodes the base64 error body trailer, or builds one.
func trailerErrorBody(typ, b64 string) []byte {
	if b, err := base64.StdEncoding.DecodeString(b64); err == nil && len(b) > 0 {
		return b
	}
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{"the response stream ended with an error", typ})
	return b
}

func (s *Server) handleError(r *http.Request) error {
	id := r.PathValue("id")
	if err := s.checkAnswer(id, transInvocationErrorResponse); err != nil {
		return err
	}
	body, tooLarge, err := readBody(r)
	if err != nil {
		return &apiError{http.StatusBadRequest, errTruncatedHTTPRequest, msgTruncatedHTTPRequest}
	}
	if tooLarge {
		if err := s.commit(id, transInvocationErrorResponse, Event{Kind: EventTooLarge, RequestID: id}); err != nil {
			return err
		}
		return &apiError{http.StatusRequestEntityTooLarge, errRequestEntityTooLarge, msgRequestTooLarge}
	}
	ct := r.Header.Get("Content-Type")
	if ct == contentTypeErrorCause {
		body = stripErrorCause(body)
		ct = contentTypeJSON
	}
	return s.commit(id, transInvocationErrorResponse, Event{
		Kind: EventError, RequestID: id, Body: body, ContentType: ct, ErrorType: r.Header.Get(HeaderErrorType),
	})
}

// stripErrorCause removes the X-Ray errorCause member of an error.cause+json
// body; a body that is not a JSON object is passed through.
func stripErrorCause(body []byte) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return body
	}
	if _, ok := m["errorCause"]; !ok {
		return body
	}
	delete(m, "errorCause")
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

func (s *Server) handleInitError(r *http.Request) error {
	s.mu.Lock()
	if s.st != stStarted {
		st := s.st
		s.mu.Unlock()
		return transitionError(st, transInitError)
	}
	s.mu.Unlock()
	body, tooLarge, err := readBody(r)
	if err != nil {
		return &apiError{http.StatusBadRequest, errTruncatedHTTPRequest, msgTruncatedHTTPRequest}
	}
	if tooLarge {
		return &apiError{http.StatusRequestEntityTooLarge, errRequestEntityTooLarge, msgRequestTooLarge}
	}
	ct := r.Header.Get("Content-Type")
	if ct == contentTypeErrorCause {
		body = stripErrorCause(body)
		ct = contentTypeJSON
	}
	s.mu.Lock()
	if s.st != stStarted {
		st := s.st
		s.mu.Unlock()
		return transitionError(st, transInitError)
	}
	s.st = stInitError
	s.mu.Unlock()
	s.emit(Event{Kind: EventInitError, Body: body, ContentType: ct, ErrorType: r.Header.Get(HeaderErrorType)})
	return nil
}
