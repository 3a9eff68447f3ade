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
}

// Store writes and reads function logs. It is safe for concurrent use.
type Store struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	dropped atomic.Uint64
}

var _ logs.BatchSink = (*Store)(nil)

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
	return &Store{nc: nc, js: js}, nil
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

// Write publishes rec. It never blocks on the disk; a record the client
// cannot buffer is counted in Dropped.
func (s *Store) Write(rec logs.Record) {
	m := &nats.Msg{Subject: Subject(rec.Group), Data: rec.Message, Header: nats.Header{}}
	m.Header.Set(hdrLogStream, rec.Stream)
	m.Header.Set(hdrTime, strconv.FormatInt(rec.Time.UnixNano(), 10))
	if err := s.nc.PublishMsg(m); err != nil {
		s.dropped.Add(1)
	}
}

// WriteBatch publishes records of one log group and stream as one message
// (framed: 8-byte unix nanos, 4-byte length, message, per record). It never
// blocks on the disk.
func (s *Store) WriteBatch(recs []logs.Record) {
	if len(recs) == 0 {
		return
	}
	n := 0
	for i := range recs {
		n += 12 + len(recs[i].Message)
	}
	body := make([]byte, 0, n)
	for i := range recs {
		body = binary.BigEndian.AppendUint64(body, uint64(recs[i].Time.UnixNano()))
		body = binary.BigEndian.AppendUint32(body, uint32(len(recs[i].Message)))
		body = append(body, recs[i].Message...)
	}
	m := &nats.Msg{Subject: Subject(recs[0].Group), Data: body, Header: nats.Header{}}
	m.Header.Set(hdrLogStream, recs[0].Stream)
	m.Header.Set(hdrBatch, strconv.Itoa(len(recs)))
	if err := s.nc.PublishMsg(m); err != nil {
		s.dropped.Add(uint64(len(recs)))
	}
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
