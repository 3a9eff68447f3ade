package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// Deps are the Service's dependencies and settings.
type Deps struct {
	Store     *store.Store
	Region    string // e.g. us-east-1
	AccountID string // 12 digits
	Logger    *slog.Logger
	// ConcurrencyLimit is the account's ConcurrentExecutions; 0 = 1000.
	ConcurrencyLimit int
	// BaseURL returns this server's base URL (e.g. http://127.0.0.1:9001)
	// for GetFunction's Code.Location; nil yields a relative location.
	BaseURL func() string
	// CheckRuntime reports whether the host can serve a runtime; an error
	// puts the function in State Failed with the error text as StateReason.
	// nil means every runtime is fine.
	CheckRuntime func(runtime string) error
	// Now overrides the clock (tests); nil = time.Now.
	Now func() time.Time
	// CodeGCInterval is how often unreferenced packages are swept; 0 = 10m,
	// negative disables the background sweep (CollectCode still works).
	CodeGCInterval time.Duration
	// CodeGCGrace is how long a package must be unreferenced and untouched
	// before it is deleted; 0 = 1h.
	CodeGCGrace time.Duration
}

// Service implements the function lifecycle operations. It is safe for
// concurrent use. Close stops its background provisioning.
type Service struct {
	d      Deps
	log    *slog.Logger
	ctx    context.Context // cancelled by Close; parent of provisioning work
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// concMu serialises the operations that take concurrency from the
	// account's unreserved pool, so two concurrent requests cannot both
	// pass the minimum-unreserved check (one process; a multi-node
	// deployment needs a KV lease instead).
	concMu sync.Mutex

	gcInterval, gcGrace time.Duration
	gcMu                sync.Mutex           // serialises CollectCode
	gcSeen              map[string]time.Time // sha -> first sweep that saw it unreferenced
}

// New returns a Service and starts finishing any provisioning a previous
// process left undone.
func New(d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.ConcurrencyLimit == 0 {
		d.ConcurrencyLimit = lambda.DefaultConcurrencyLimit
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{d: d, log: d.Logger, ctx: ctx, cancel: cancel, gcInterval: d.CodeGCInterval, gcGrace: d.CodeGCGrace, gcSeen: map[string]time.Time{}}
	if s.gcInterval == 0 {
		s.gcInterval = defaultCodeGCInterval
	}
	if s.gcGrace == 0 {
		s.gcGrace = defaultCodeGCGrace
	}
	s.wg.Go(s.recover)
	if s.gcInterval > 0 {
		s.wg.Go(s.gcLoop)
	}
	return s
}

// Close stops background provisioning and waits for it. Functions still
// Pending/InProgress are finished by the next Service on the same store.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// Region and AccountID of this service.
func (s *Service) Region() string    { return s.d.Region }
func (s *Service) AccountID() string { return s.d.AccountID }

func (s *Service) arn(name string) string { return lambda.FunctionARN(s.d.Region, s.d.AccountID, name) }

func (s *Service) now() string { return s.d.Now().UTC().Format(lambda.TimeFormat) }

func newRevisionID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Service) runtimeVersionARN(runtime string) *lambda.RuntimeVersionConfig {
	if runtime == "" {
		return nil
	}
	sum := sha256.Sum256([]byte("lambdad:" + runtime))
	return &lambda.RuntimeVersionConfig{RuntimeVersionArn: "arn:aws:lambda:" + s.d.Region + "::runtime:" + hex.EncodeToString(sum[:])}
}

// recover finishes provisioning of functions left Pending or InProgress.
func (s *Service) recover() {
	fns, err := s.d.Store.Functions(s.ctx)
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Error("recover provisioning", "err", err)
		}
		return
	}
	busy := map[string]bool{}
	for _, fn := range fns {
		c := fn.Config
		if c.State == lambda.StatePending || c.LastUpdateStatus == lambda.UpdateInProgress {
			busy[c.FunctionName] = true
			s.provision(c.FunctionName, c.RevisionId)
		}
	}
	s.settleOrphanVersions(busy)
}

// settleOrphanVersions finishes versions left Pending by a process that
// stopped between provisioning $LATEST and settling the version published
// with it: their runtime is checked again and the version flipped.
func (s *Service) settleOrphanVersions(busy map[string]bool) {
	ctx := s.ctx
	es, err := s.d.Store.Records(ctx, store.KindVersion, "")
	if err != nil {
		return
	}
	for _, e := range es {
		var v lambda.Function
		if e.Decode(&v) != nil || v.Config.State != lambda.StatePending || busy[e.Owner] {
			continue
		}
		c := &v.Config
		var failure error
		if s.d.CheckRuntime != nil && c.Runtime != "" {
			failure = s.d.CheckRuntime(c.Runtime)
		}
		if failure != nil {
			c.State, c.StateReason, c.StateReasonCode = lambda.StateFailed, failure.Error(), lambda.ReasonCodeInvalidRuntime
			c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = lambda.UpdateFailed, failure.Error(), lambda.ReasonCodeInvalidRuntime
		} else {
			c.State, c.StateReason, c.StateReasonCode = lambda.StateActive, "", ""
			c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = lambda.UpdateSuccessful, "", ""
		}
		c.RevisionId = newRevisionID()
		if _, err := s.d.Store.UpdateRecord(ctx, store.KindVersion, e.Owner, e.ID, &v, e.Revision); err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrConflict) {
			s.log.Error("settle version", "function", e.Owner, "version", e.ID, "err", err)
		}
	}
}

// schedule provisions name in the background once the mutation that wrote
// revisionID is stored.
func (s *Service) schedule(name, revisionID string) {
	s.wg.Go(func() { s.provision(name, revisionID) })
}

// provision checks what the host can verify about the function written with
// revisionID and flips it to Active/Successful or Failed. It gives up if
// the record changed meanwhile (deleted, or superseded).
func (s *Service) provision(name, revisionID string) {
	ctx := s.ctx
	fn, rev, err := s.d.Store.Function(ctx, name)
	if err != nil || fn.Config.RevisionId != revisionID {
		return
	}
	var failure error
	if s.d.CheckRuntime != nil && fn.Config.Runtime != "" {
		failure = s.d.CheckRuntime(fn.Config.Runtime)
	}
	if ctx.Err() != nil {
		return
	}
	for {
		c := &fn.Config
		if c.RevisionId != revisionID {
			return
		}
		pending := c.State == lambda.StatePending
		if failure != nil {
			reason := failure.Error()
			c.State, c.StateReason, c.StateReasonCode = lambda.StateFailed, reason, lambda.ReasonCodeInvalidRuntime
			c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = lambda.UpdateFailed, reason, lambda.ReasonCodeInvalidRuntime
		} else {
			c.State, c.StateReason, c.StateReasonCode = lambda.StateActive, "", ""
			c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = lambda.UpdateSuccessful, "", ""
		}
		c.RevisionId = newRevisionID()
		_, err := s.d.Store.UpdateFunction(ctx, fn, rev)
		if err == nil {
			s.settleVersions(ctx, name, c)
			if failure != nil {
				s.log.Warn("function provisioning failed", "function", name, "err", failure)
			} else if pending {
				s.log.Info("function active", "function", name)
			}
			return
		}
		if !errors.Is(err, store.ErrConflict) {
			if ctx.Err() == nil {
				s.log.Error("function provisioning", "function", name, "err", err)
			}
			return
		}
		if fn, rev, err = s.d.Store.Function(ctx, name); err != nil {
			return
		}
	}
}

// mutate applies change to the $LATEST record of name with a CAS loop, so a
// concurrent writer is never lost: on a lost race the record is re-read and
// change re-run (its precondition checks included).
func (s *Service) mutate(ctx context.Context, name string, change func(fn *lambda.Function) error) (*lambda.Function, error) {
	for {
		fn, rev, err := s.d.Store.Function(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, lambda.FunctionNotFound(s.arn(name))
		}
		if err != nil {
			return nil, err
		}
		if err := change(fn); err != nil {
			return nil, err
		}
		if _, err := s.d.Store.UpdateFunction(ctx, fn, rev); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		return fn, nil
	}
}

// checkUpdatable enforces SPEC §1.2's 409 rules and the RevisionId precondition.
func (s *Service) checkUpdatable(fn *lambda.Function, revisionID string) error {
	c := fn.Config
	if c.State == lambda.StatePending {
		return lambda.ConflictPending(c.State)
	}
	if c.LastUpdateStatus == lambda.UpdateInProgress {
		return lambda.ConflictInProgress(s.arn(c.FunctionName))
	}
	if revisionID != "" && revisionID != c.RevisionId {
		return lambda.PreconditionFailed()
	}
	return nil
}

// markUpdating records a successful update request: InProgress, new
// LastModified and RevisionId.
func (s *Service) markUpdating(c *lambda.FunctionConfiguration) {
	c.LastUpdateStatus = lambda.UpdateInProgress
	c.LastUpdateStatusReason = lambda.ReasonCreating
	c.LastUpdateStatusReasonCode = lambda.ReasonCodeCreating
	c.LastModified = s.now()
	c.RevisionId = newRevisionID()
}
