// Package logstore keeps function logs on the JetStream LOGS stream: a
// logs.Sink that publishes every record without ever blocking the function
// (core NATS publish into a stream with asynchronous persistence, as
// reference/backbone.md recommends for logs), time-range reads and
// follow-mode subscriptions for `lambdad logs`.
//
// Subjects are logs.fn.<function> for the default log group
// /aws/lambda/<function>, and logs.g.<hex of the group> for custom groups.
// The log stream name and the event time travel in headers.
//
// It imports internal/logs and the NATS client.
package logstore

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lambdad/lambdad/internal/logs"
)

const (
	streamName   = "LOGS"
	hdrLogStream = "Lambdad-Log-Stream"
	hdrTime      = "Lambdad-Time"
	hdrBatch     = "Lambdad-Batch"
)

// Options configure the LOGS stream.
type Options struct {
	MaxAge   time.Duration // retention by age (default 7 days)
	MaxBytes int64         // retention by size, oldest dropped (default 1 GiB)
	// Linger is how long records wait in memory so that those written close
	// together are published as one message per log stream (default 5 ms).
	// Readers of this Store see them at once: Read flushes first.
	Linger time.Duration
	// MaxBuffer bounds the records waiting to be published; beyond it
	// TryWrite (function output) drops (default 16 MiB).
	MaxBuffer int
}

const (
	defaultLinger    = 5 * time.Millisecond
	defaultMaxBuffer = 16 << 20
	// maxMessage bounds one published batch (NATS's default max payload is
	// 1 MiB; the headers need some room).
	maxMessage = 512 << 10
)

// Store writes and reads function logs. It is safe for concurrent use.
//
// Writes only append to an in-memory batch per log stream; a flush Linger
// after the first buffered record (or at once when a batch is full)
// publishes every batch as one message. A warm invoke's START, END and
// REPORT therefore cost no NATS round of their own, and many invokes share
// one: the flush is the only goroutine hand-off.
type Store struct {
	nc        *nats.Conn
	js        jetstream.JetStream
	linger    time.Duration
	maxBuffer int
	dropped   atomic.Uint64

	flushMu sync.Mutex // serialises flushes: a stream's messages stay in order

	mu       sync.Mutex
	batches  map[streamKey]*batch
	ready    []*batch    // full batches waiting for the flush
	buffered int         // bytes in batches and ready
	timer    *time.Timer // the linger flush
	armed    bool        // timer is due
	kicked   bool        // a flush for full batches is on its way
	closed   bool        // after Close: every write is published at once
}

type streamKey struct{ group, stream string }

// batch is the framed body of one message: per record 8-byte unix nanos,
// 4-byte length, message.
type batch struct {
	key  streamKey
	n    int
	body []byte
}

var (
	_ logs.BatchSink  = (*Store)(nil)
	_ logs.DirectSink = (*Store)(nil)
)

// New creates or updates the LOGS stream.
func New(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, opts Options) (*Store, error) {
	if opts.MaxAge <= 0 {
		opts.MaxAge = 7 * 24 * time.Hour
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 1 << 30
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        streamName,
		Subjects:    []string{"logs.>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      opts.MaxAge,
		MaxBytes:    opts.MaxBytes,
		Discard:     jetstream.DiscardOld,
		PersistMode: jetstream.AsyncPersistMode,
	})
	if err != nil {
		return nil, fmt.Errorf("create LOGS stream: %w", err)
	}
	if opts.Linger <= 0 {
		opts.Linger = defaultLinger
	}
	if opts.MaxBuffer <= 0 {
		opts.MaxBuffer = defaultMaxBuffer
	}
	return &Store{nc: nc, js: js, linger: opts.Linger, maxBuffer: opts.MaxBuffer, batches: map[streamKey]*batch{}}, nil
}

// plainName reports whether s is a non-empty run of [A-Za-z0-9_-] (a valid
// subject token); a byte loop, as Subject runs for every log record.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Subject is the subject of a log group's records.
func Subject(group string) string {
	if name, ok := strings.CutPrefix(group, "/aws/lambda/"); ok && plainName(name) {
		return "logs.fn." + name
	}
	return "logs.g." + hex.EncodeToString([]byte(group))
}

func groupOf(subject string) string {
	if name, ok := strings.CutPrefix(subject, "logs.fn."); ok {
		return "/aws/lambda/" + name
	}
	if h, ok := strings.CutPrefix(subject, "logs.g."); ok {
		if b, err := hex.DecodeString(h); err == nil {
			return string(b)
		}
	}
	return ""
}

// Write buffers rec for the next flush. It never blocks on NATS or the
// disk.
func (s *Store) Write(rec logs.Record) {
	s.mu.Lock()
	s.appendLocked(rec)
	s.scheduleLocked()
	s.mu.Unlock()
}

// TryWrite is Write unless MaxBuffer bytes already wait; then rec is
// dropped (counted in Dropped) and TryWrite reports false.
func (s *Store) TryWrite(rec logs.Record) bool {
	s.mu.Lock()
	if s.buffered >= s.maxBuffer {
		s.mu.Unlock()
		s.dropped.Add(1)
		return false
	}
	s.appendLocked(rec)
	s.scheduleLocked()
	s.mu.Unlock()
	return true
}

// WriteBatch buffers records for the next flush (each goes to its own log
// stream's batch).
func (s *Store) WriteBatch(recs []logs.Record) {
	if len(recs) == 0 {
		return
	}
	s.mu.Lock()
	for i := range recs {
		s.appendLocked(recs[i])
	}
	s.scheduleLocked()
	s.mu.Unlock()
}

func (s *Store) appendLocked(rec logs.Record) {
	k := streamKey{rec.Group, rec.Stream}
	b := s.batches[k]
	size := 12 + len(rec.Message)
	if b != nil && len(b.body)+size > maxMessage {
		s.ready = append(s.ready, b)
		b = nil
	}
	if b == nil {
		b = &batch{key: k, body: make([]byte, 0, min(max(4*size, 512), maxMessage))}
		s.batches[k] = b
	}
	b.body = binary.BigEndian.AppendUint64(b.body, uint64(rec.Time.UnixNano()))
	b.body = binary.BigEndian.AppendUint32(b.body, uint32(len(rec.Message)))
	b.body = append(b.body, rec.Message...)
	b.n++
	s.buffered += size
}

// scheduleLocked arranges the flush: at once when closed or when a full
// batch waits, else Linger from now unless one is due already.
func (s *Store) scheduleLocked() {
	if s.closed {
		s.mu.Unlock()
		s.Flush()
		s.mu.Lock()
		return
	}
	if len(s.ready) > 0 && !s.kicked {
		s.kicked = true
		go s.Flush()
	}
	if !s.armed {
		s.armed = true
		if s.timer == nil {
			s.timer = time.AfterFunc(s.linger, s.Flush)
		} else {
			s.timer.Reset(s.linger)
		}
	}
}

// Flush publishes every buffered record now (one message per log stream
// and full batch). Read calls it, so a reader sees what was written before.
func (s *Store) Flush() {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	out := s.ready
	for _, b := range s.batches {
		out = append(out, b)
	}
	s.ready = nil
	clear(s.batches)
	s.buffered = 0
	s.kicked = false
	if s.armed {
		s.armed = false
		s.timer.Stop()
	}
	s.mu.Unlock()
	for _, b := range out {
		m := &nats.Msg{Subject: Subject(b.key.group), Data: b.body, Header: nats.Header{}}
		m.Header[hdrLogStream] = []string{b.key.stream}
		m.Header[hdrBatch] = []string{strconv.Itoa(b.n)}
		if err := s.nc.PublishMsg(m); err != nil {
			s.dropped.Add(uint64(b.n))
		}
	}
}

// Close publishes what is buffered; later writes are published at once.
// The NATS connection stays the caller's.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.Flush()
	return nil
}

// splitBatch decodes a WriteBatch body; nil if it is malformed.
func splitBatch(group, stream string, body []byte) []logs.Record {
	var out []logs.Record
	for len(body) > 0 {
		if len(body) < 12 {
			return nil
		}
		ns := int64(binary.BigEndian.Uint64(body))
		l := int(binary.BigEndian.Uint32(body[8:]))
		body = body[12:]
		if l > len(body) {
			return nil
		}
		out = append(out, logs.Record{Group: group, Stream: stream, Time: time.Unix(0, ns), Message: body[:l:l]})
		body = body[l:]
	}
	return out
}

// Dropped counts records that could not be published.
func (s *Store) Dropped() uint64 { return s.dropped.Load() }

// Query selects records.
type Query struct {
	Groups []string  // log groups; empty = every group
	Since  time.Time // zero = from the beginning
	Follow bool      // keep delivering new records until ctx ends
}

// Read calls fn for every stored record matching q in order; with Follow it
// then keeps delivering new ones until ctx is done (returning nil).
func (s *Store) Read(ctx context.Context, q Query, fn func(logs.Record) error) (err error) {
	s.Flush()
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	for _, g := range q.Groups {
		cfg.FilterSubjects = append(cfg.FilterSubjects, Subject(g))
	}
	if !q.Since.IsZero() {
		t := q.Since
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	if q.Follow {
		// A follower ends when ctx does; that is not an error.
		defer func() {
			if ctx.Err() != nil {
				err = nil
			}
		}()
	}
	st, err := s.js.Stream(ctx, streamName)
	if err != nil {
		return fmt.Errorf("open LOGS stream: %w", err)
	}
	if !q.Since.IsZero() {
		// Work around start-time selection past the last record: deliver
		// only new records then.
		info, err := st.Info(ctx)
		if err != nil {
			return fmt.Errorf("LOGS stream info: %w", err)
		}
		if !info.State.LastTime.After(q.Since) {
			if !q.Follow {
				return nil
			}
			cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverNewPolicy, nil
		}
	}
	cons, err := st.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("logs consumer: %w", err)
	}
	if !q.Follow {
		ci, err := cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("logs consumer info: %w", err)
		}
		if ci.NumPending == 0 {
			return nil
		}
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("logs messages: %w", err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				if q.Follow {
					return nil
				}
				return ctx.Err()
			}
			return fmt.Errorf("next log record: %w", err)
		}
		md, _ := m.Metadata()
		if m.Headers().Get(hdrBatch) != "" {
			for _, rec := range splitBatch(groupOf(m.Subject()), m.Headers().Get(hdrLogStream), m.Data()) {
				if !q.Since.IsZero() && rec.Time.Before(q.Since) {
					continue
				}
				if err := fn(rec); err != nil {
					return err
				}
			}
			if !q.Follow && md != nil && md.NumPending == 0 {
				return nil
			}
			continue
		}
		rec := logs.Record{
			Group:   groupOf(m.Subject()),
			Stream:  m.Headers().Get(hdrLogStream),
			Message: m.Data(),
		}
		if ns, err := strconv.ParseInt(m.Headers().Get(hdrTime), 10, 64); err == nil {
			rec.Time = time.Unix(0, ns)
		} else if md != nil {
			rec.Time = md.Timestamp
		}
		if err := fn(rec); err != nil {
			return err
		}
		// Without Follow, stop once no stored record matching q remains.
		if !q.Follow && md != nil && md.NumPending == 0 {
			return nil
		}
	}
}
