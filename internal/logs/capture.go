package logs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// MaxLineBytes is the longest line kept as one record; longer output is
// split (CloudWatch's event size limit is 256 KiB).
const MaxLineBytes = 256 * 1024

// DefaultQueueBytes bounds the function output waiting for a slow Sink.
const DefaultQueueBytes = 4 << 20

// Capture collects the log stream of one environment: the function's
// stdout/stderr through a pipe, split into lines, plus the platform lines.
// Function output never blocks: when the Sink falls behind by more than the
// queue bound, function lines are dropped and counted; platform lines are
// never dropped.
//
// Capture also keeps the tail of the current invocation (BeginTail …
// EndTail). Sync makes the tail contain everything the runtime wrote before
// it called /next, which is what makes the END/REPORT lines follow the
// function's own output.
//
// Lock order: mu before qmu.
type Capture struct {
	group, stream string
	sink          Sink
	maxQueue      int

	w  *os.File // write end, for the runtime's stdout and stderr
	r  *os.File
	rc syscall.RawConn

	mu       sync.Mutex // guards partial, tail, tailing, eof; held while reading the pipe
	partial  []byte
	tail     []byte
	tailing  bool
	eof      bool
	progress chan struct{} // closed and replaced after each read batch
	readDone chan struct{}

	direct DirectSink // sink, when it only buffers: no queue, no deliver goroutine

	qmu     sync.Mutex
	qcond   *sync.Cond
	queue   []Record
	qbytes  int
	qclosed bool
	sinkWG  sync.WaitGroup

	dropped   atomic.Uint64
	closeOnce sync.Once
}

// NewCapture returns a Capture writing records for group/stream to sink.
// Give Output() to the runtime process as stdout and stderr.
func NewCapture(sink Sink, group, stream string) (*Capture, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create log pipe: %w", err)
	}
	rc, err := r.SyscallConn()
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("create log pipe: %w", err)
	}
	c := &Capture{
		group: group, stream: stream, sink: sink, maxQueue: DefaultQueueBytes,
		w: w, r: r, rc: rc,
		progress: make(chan struct{}),
		readDone: make(chan struct{}),
	}
	c.qcond = sync.NewCond(&c.qmu)
	if d, ok := sink.(DirectSink); ok {
		c.direct = d
	} else {
		c.sinkWG.Add(1)
		go c.deliver()
	}
	go c.read()
	return c, nil
}

// Group is the log group name.
func (c *Capture) Group() string { return c.group }

// Stream is the log stream name.
func (c *Capture) Stream() string { return c.stream }

// Output is the write end of the pipe: the runtime's stdout and stderr.
// Capture keeps it open until Close so that a restarted reader never sees a
// premature EOF; the runtime holding it does not delay Close.
func (c *Capture) Output() *os.File { return c.w }

// Dropped reports how many function lines were dropped because the Sink was
// slow.
func (c *Capture) Dropped() uint64 { return c.dropped.Load() }

// Platform writes a platform line (START, END, REPORT, ...); it is part of
// the tail when an invocation is being tailed.
func (c *Capture) Platform(line []byte) {
	now := time.Now()
	c.mu.Lock()
	c.appendTail(line)
	c.mu.Unlock()
	c.enqueue(Record{Group: c.group, Stream: c.stream, Time: now, Message: line}, true)
}

// PlatformLater is Platform for a line that need not be stored at once
// (START): it waits in the queue for the next record, so an invocation's
// platform lines reach the Sink in one batch. Some record always follows
// (END and REPORT at the latest), and Close flushes the queue. A DirectSink
// gets the line at once: it batches on its own.
func (c *Capture) PlatformLater(line []byte) {
	now := time.Now()
	c.mu.Lock()
	c.appendTail(line)
	c.mu.Unlock()
	rec := Record{Group: c.group, Stream: c.stream, Time: now, Message: line}
	if c.direct != nil {
		c.direct.Write(rec) // the sink batches on its own
		return
	}
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.qclosed {
		return
	}
	c.queue = append(c.queue, rec)
	c.qbytes += len(line)
}

// BeginTail starts collecting an invocation's log text.
func (c *Capture) BeginTail() {
	c.mu.Lock()
	c.tail = c.tail[:0]
	c.tailing = true
	c.mu.Unlock()
}

// EndTail stops collecting and returns the last TailBytes bytes.
func (c *Capture) EndTail() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tailing = false
	t := c.tail
	if len(t) > TailBytes {
		t = t[len(t)-TailBytes:]
	}
	return append([]byte(nil), t...)
}

func (c *Capture) appendTail(b []byte) {
	if !c.tailing {
		return
	}
	c.tail = append(c.tail, b...)
	if len(c.tail) > 4*TailBytes {
		n := copy(c.tail, c.tail[len(c.tail)-TailBytes:])
		c.tail = c.tail[:n]
	}
}

// Sync waits, at most timeout, until every byte already written to the pipe
// has been turned into records (and tail text); then an unterminated last
// line is emitted as a record of its own.
func (c *Capture) Sync(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		if c.eof {
			c.mu.Unlock()
			return
		}
		n := c.pending()
		progress := c.progress
		if n == 0 {
			// The runtime is idle: an unterminated last line belongs to
			// this invocation.
			c.flushPartial()
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		wait := time.Until(deadline)
		if wait <= 0 {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-progress:
			t.Stop()
		case <-t.C:
			return
		}
	}
}

// pending is the number of unread bytes in the pipe (FIONREAD).
func (c *Capture) pending() int {
	var n int32
	_ = c.rc.Control(func(fd uintptr) {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); e != 0 {
			n = 0
		}
	})
	return int(n)
}

// read turns pipe contents into records until EOF. Reads happen under mu so
// that Sync can tell whether everything written has been processed.
func (c *Capture) read() {
	defer close(c.readDone)
	buf := make([]byte, 64*1024)
	for {
		var rerr error
		err := c.rc.Read(func(fd uintptr) bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			for {
				n, err := syscall.Read(int(fd), buf)
				if n > 0 {
					c.split(buf[:n])
					continue
				}
				if errors.Is(err, syscall.EINTR) {
					continue
				}
				if errors.Is(err, syscall.EAGAIN) {
					c.signalProgress()
					return false
				}
				if err == nil {
					rerr = io.EOF
				} else {
					rerr = err
				}
				return true
			}
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			c.mu.Lock()
			c.flushPartial()
			c.eof = true
			c.signalProgress()
			c.mu.Unlock()
			return
		}
	}
}

func (c *Capture) signalProgress() {
	close(c.progress)
	c.progress = make(chan struct{})
}

// split cuts b into lines; called with mu held.
func (c *Capture) split(b []byte) {
	for len(b) > 0 {
		i := indexNL(b)
		if i < 0 {
			room := MaxLineBytes - len(c.partial)
			if len(b) < room {
				c.partial = append(c.partial, b...)
				return
			}
			c.partial = append(c.partial, b[:room]...)
			b = b[room:]
			c.flushPartial()
			continue
		}
		line := b[:i+1]
		b = b[i+1:]
		var msg []byte
		if len(c.partial) > 0 {
			msg = append(c.partial, line...)
			c.partial = nil
		} else {
			msg = append([]byte(nil), line...)
		}
		c.emitLine(msg)
	}
}

func indexNL(b []byte) int {
	for i, x := range b {
		if x == '\n' {
			return i
		}
	}
	return -1
}

func (c *Capture) flushPartial() {
	if len(c.partial) == 0 {
		return
	}
	msg := c.partial
	c.partial = nil
	c.emitLine(msg)
}

func (c *Capture) emitLine(msg []byte) {
	c.appendTail(msg)
	c.enqueue(Record{Group: c.group, Stream: c.stream, Time: time.Now(), Message: msg}, false)
}

func (c *Capture) enqueue(rec Record, platform bool) {
	if c.direct != nil {
		if platform {
			c.direct.Write(rec)
		} else if !c.direct.TryWrite(rec) {
			c.dropped.Add(1)
		}
		return
	}
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.qclosed {
		return
	}
	if !platform && c.qbytes+len(rec.Message) > c.maxQueue {
		c.dropped.Add(1)
		return
	}
	c.queue = append(c.queue, rec)
	c.qbytes += len(rec.Message)
	c.qcond.Signal()
}

// deliver hands queued records to the Sink.
func (c *Capture) deliver() {
	defer c.sinkWG.Done()
	var batch []Record
	for {
		c.qmu.Lock()
		for len(c.queue) == 0 && !c.qclosed {
			c.qcond.Wait()
		}
		if len(c.queue) == 0 {
			c.qmu.Unlock()
			return
		}
		batch, c.queue = c.queue, batch[:0]
		c.qbytes = 0
		c.qmu.Unlock()
		if bs, ok := c.sink.(BatchSink); ok && len(batch) > 1 {
			bs.WriteBatch(batch)
		} else {
			for i := range batch {
				c.sink.Write(batch[i])
			}
		}
		clear(batch)
	}
}

// Close stops capturing: it closes the pipe's write end, reads what the
// runtime left in the pipe (waiting at most a second for processes that
// still hold it), delivers every queued record and returns. Idempotent.
func (c *Capture) Close() error {
	c.closeOnce.Do(func() {
		c.w.Close()
		t := time.NewTimer(time.Second)
		select {
		case <-c.readDone:
			t.Stop()
		case <-t.C:
			c.r.Close() // unblocks read
			<-c.readDone
		}
		c.r.Close()
		c.qmu.Lock()
		c.qclosed = true
		c.qcond.Signal()
		c.qmu.Unlock()
		c.sinkWG.Wait()
	})
	return nil
}
