// Package spool is the gateway's durable on-disk queue of MQTT messages, kept in a
// bbolt file. Every reading is appended here before anything is sent; the
// forwarder peeks entries in order, publishes them and removes them after the
// broker's PUBACK.
//
// # Durability and fsync policy
//
// Append returns only after the bbolt transaction that holds the entry has been
// committed, and bbolt's commit fsyncs the data pages and then the meta page
// (fdatasync on Linux). An entry whose Append returned nil therefore survives a
// process kill or a power cut. To keep this affordable on an SD card, appends are
// group-committed: one goroutine owns the write side and commits every append
// that queued up while the previous commit was syncing in a single transaction,
// so N concurrent appends cost one fsync, not N. Removals go through the same
// queue; a removal that is lost in a crash only causes a duplicate delivery,
// which the platform tolerates (same series, same timestamp).
//
// # Bounds
//
// The spool holds at most Options.MaxEntries entries and Options.MaxBytes bytes
// of keys and values. When an append would exceed a bound, the OLDEST entries are
// deleted in the same transaction and counted in Stats.Dropped (persisted across
// restarts); the newest reading is never the one refused. The bbolt file itself
// does not shrink: freed pages are reused, so the file settles a little above
// MaxBytes.
package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Sentinel errors.
var (
	// ErrClosed is returned by operations on a closed spool.
	ErrClosed = errors.New("spool closed")
	// ErrTooLarge means one entry alone exceeds the spool's byte bound.
	ErrTooLarge = errors.New("entry larger than the spool")
	// ErrInvalidEntry means an entry has an empty or oversized topic.
	ErrInvalidEntry = errors.New("invalid spool entry")
)

// Defaults of Options.
const (
	DefaultMaxBytes   = 64 << 20
	DefaultMaxEntries = 1_000_000
	DefaultMaxBatch   = 4096
)

var (
	bucketData = []byte("entries")
	bucketMeta = []byte("meta")
	keyMeta    = []byte("state")
)

// Options configures a spool. The zero value is usable.
type Options struct {
	// MaxBytes bounds the stored keys and values (optional, defaults to 64 MiB).
	MaxBytes int64
	// MaxEntries bounds the number of entries (optional, defaults to 1,000,000).
	MaxEntries int
	// MaxBatch is the largest number of operations committed in one
	// transaction (optional, defaults to 4096).
	MaxBatch int
	// Logger (optional, defaults to slog.Default()).
	Logger *slog.Logger
}

// Validate checks the options; errors name the field.
func (o Options) Validate() error {
	switch {
	case o.MaxBytes < 0:
		return fmt.Errorf("max_bytes: must not be negative, got %d", o.MaxBytes)
	case o.MaxBytes > 0 && o.MaxBytes < 4096:
		return fmt.Errorf("max_bytes: at least 4096, got %d", o.MaxBytes)
	case o.MaxEntries < 0:
		return fmt.Errorf("max_entries: must not be negative, got %d", o.MaxEntries)
	case o.MaxBatch < 0:
		return fmt.Errorf("max_batch: must not be negative, got %d", o.MaxBatch)
	}
	return nil
}

func (o *Options) setDefaults() {
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Entry is one spooled message.
type Entry struct {
	Seq     uint64 // strictly increasing, never reused
	Topic   string
	Payload []byte
}

// Stats describes the spool's content and history.
type Stats struct {
	Depth    int    // entries stored
	Bytes    int64  // bytes of keys and values stored
	Dropped  uint64 // oldest entries deleted to respect the bounds, since the file was created
	Pending  int    // stored entries not yet marked Delivered: what a power cut now would resend
	FirstSeq uint64 // seq of the oldest stored entry, 0 when empty
	LastSeq  uint64 // seq of the newest entry ever appended
	Appended uint64 // entries appended by this process
	Removed  uint64 // entries removed (delivered) by this process
	Commits  uint64 // transactions committed by this process
}

// state is persisted in the meta bucket in every write transaction.
type state struct {
	nextSeq uint64
	count   uint64
	bytes   uint64
	dropped uint64
}

func (s state) marshal() []byte {
	b := make([]byte, 32)
	binary.BigEndian.PutUint64(b[0:], s.nextSeq)
	binary.BigEndian.PutUint64(b[8:], s.count)
	binary.BigEndian.PutUint64(b[16:], s.bytes)
	binary.BigEndian.PutUint64(b[24:], s.dropped)
	return b
}

func unmarshalState(b []byte) (state, error) {
	if len(b) != 32 {
		return state{}, fmt.Errorf("meta state: want 32 bytes, got %d", len(b))
	}
	return state{
		nextSeq: binary.BigEndian.Uint64(b[0:]),
		count:   binary.BigEndian.Uint64(b[8:]),
		bytes:   binary.BigEndian.Uint64(b[16:]),
		dropped: binary.BigEndian.Uint64(b[24:]),
	}, nil
}

// request is one append or removal waiting for the committer.
type request struct {
	topic   string
	payload []byte
	remove  []uint64
	done    chan error
}

// Spool is a durable, bounded, ordered queue on disk. It is safe for concurrent use.
type Spool struct {
	db   *bolt.DB
	opts Options
	log  *slog.Logger

	reqs      chan *request
	committed chan struct{} // closed when the committer exits
	notify    chan struct{}

	closeMu sync.RWMutex
	closed  bool

	mu        sync.Mutex
	delivered map[uint64]struct{} // acknowledged, removal not yet committed
	st        state
	firstSeq  uint64
	appended  uint64
	removed   uint64
	commits   uint64
}

// Open opens or creates the spool file at path. Only one process may hold it open.
func Open(path string, opts Options) (*Spool, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("spool options: %w", err)
	}
	opts.setDefaults()
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        2 * time.Second, // another process holds the lock
		NoFreelistSync: true,            // rebuilt on open; halves the pages written per commit
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	s := &Spool{
		db:        db,
		opts:      opts,
		log:       opts.Logger,
		reqs:      make(chan *request, opts.MaxBatch),
		committed: make(chan struct{}),
		notify:    make(chan struct{}, 1),
		delivered: map[uint64]struct{}{},
	}
	err = db.Update(func(tx *bolt.Tx) error {
		data, err := tx.CreateBucketIfNotExists(bucketData)
		if err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if b := meta.Get(keyMeta); b != nil {
			if s.st, err = unmarshalState(b); err != nil {
				return err
			}
		} else {
			s.st = state{nextSeq: 1}
		}
		if k, _ := data.Cursor().First(); k != nil {
			s.firstSeq = binary.BigEndian.Uint64(k)
		}
		// Tighter bounds than the file was written with: drop the oldest now.
		dropped, err := s.enforce(data, &s.st, nil)
		if err != nil {
			return err
		}
		if dropped > 0 {
			s.log.Warn("spool over its bounds at open: dropped oldest entries", "dropped", dropped)
		}
		return meta.Put(keyMeta, s.st.marshal())
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	go s.commitLoop()
	return s, nil
}

// Notify returns a channel that receives a value after entries were appended.
// It has room for one value: a reader that was busy sees at least one signal.
func (s *Spool) Notify() <-chan struct{} { return s.notify }

// LastSeq returns the seq of the newest entry ever appended (0 if none).
func (s *Spool) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.nextSeq - 1
}

// Stats returns a snapshot of the spool's counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.firstSeq
	if s.st.count == 0 {
		first = 0
	}
	return Stats{
		Depth:    int(s.st.count),
		Pending:  int(s.st.count) - len(s.delivered),
		Bytes:    int64(s.st.bytes),
		Dropped:  s.st.dropped,
		FirstSeq: first,
		LastSeq:  s.st.nextSeq - 1,
		Appended: s.appended,
		Removed:  s.removed,
		Commits:  s.commits,
	}
}

// entrySize is what one entry costs against MaxBytes.
func entrySize(topic string, payload []byte) uint64 {
	return 8 + uint64(binary.MaxVarintLen16) + uint64(len(topic)+len(payload))
}

// Append stores one message durably: when it returns nil the entry is on disk
// (fsynced) and will be delivered unless the spool overflows and drops it as the
// oldest. It may be called from many goroutines; their appends share commits.
func (s *Spool) Append(topic string, payload []byte) error {
	if topic == "" || len(topic) > 1024 {
		return fmt.Errorf("append: topic of %d bytes: %w", len(topic), ErrInvalidEntry)
	}
	if entrySize(topic, payload) > uint64(s.opts.MaxBytes) {
		return fmt.Errorf("append to %s: %d bytes: %w", topic, len(payload), ErrTooLarge)
	}
	return s.do(&request{topic: topic, payload: payload, done: make(chan error, 1)})
}

// Delivered marks entries as delivered in memory, at once and without disk
// I/O, until a batched Remove deletes them: if the spool overflows meanwhile,
// dropping them is not counted as a loss, and Stats.Pending leaves them out.
func (s *Spool) Delivered(seqs ...uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seq := range seqs {
		if seq >= s.firstSeq && seq < s.st.nextSeq {
			s.delivered[seq] = struct{}{}
		}
	}
}

// Remove deletes delivered entries. Seqs that are not stored (already removed,
// or dropped as oldest) are ignored.
func (s *Spool) Remove(seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	return s.do(&request{remove: seqs, done: make(chan error, 1)})
}

func (s *Spool) do(r *request) error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	s.reqs <- r
	s.closeMu.RUnlock()
	return <-r.done
}

// Peek returns up to n entries with seq greater than after, oldest first. The
// entries stay in the spool until removed.
func (s *Spool) Peek(after uint64, n int) ([]Entry, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketData).Cursor()
		var seek [8]byte
		binary.BigEndian.PutUint64(seek[:], after+1)
		for k, v := c.Seek(seek[:]); k != nil && len(out) < n; k, v = c.Next() {
			e, err := decodeEntry(k, v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("peek spool: %w", err)
	}
	return out, nil
}

// Close stops accepting operations, commits what is queued and closes the file.
func (s *Spool) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.closeMu.Unlock()
	<-s.committed
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close spool: %w", err)
	}
	return nil
}

func encodeEntry(topic string, payload []byte) []byte {
	b := make([]byte, 0, binary.MaxVarintLen16+len(topic)+len(payload))
	b = binary.AppendUvarint(b, uint64(len(topic)))
	b = append(b, topic...)
	return append(b, payload...)
}

func decodeEntry(k, v []byte) (Entry, error) {
	if len(k) != 8 {
		return Entry{}, fmt.Errorf("spool key of %d bytes: %w", len(k), ErrInvalidEntry)
	}
	seq := binary.BigEndian.Uint64(k)
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return Entry{}, fmt.Errorf("spool entry %d: bad topic length: %w", seq, ErrInvalidEntry)
	}
	topic := string(v[w : w+int(n)])
	payload := make([]byte, len(v)-w-int(n))
	copy(payload, v[w+int(n):])
	return Entry{Seq: seq, Topic: topic, Payload: payload}, nil
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// commitLoop owns the write side: it takes every request that is waiting
// (up to MaxBatch) and commits them in one transaction, then answers them all.
func (s *Spool) commitLoop() {
	defer close(s.committed)
	batch := make([]*request, 0, s.opts.MaxBatch)
	for first := range s.reqs {
		batch = append(batch[:0], first)
		// Take what is queued; yield once so that the appenders woken by the
		// previous commit can queue again, and take those too.
		for round := 0; round < 2; round++ {
		drain:
			for len(batch) < s.opts.MaxBatch {
				select {
				case r, ok := <-s.reqs:
					if !ok {
						break drain
					}
					batch = append(batch, r)
				default:
					break drain
				}
			}
			if round == 0 && len(batch) > 1 {
				runtime.Gosched()
			}
		}
		s.commit(batch)
	}
}

func (s *Spool) commit(batch []*request) {
	s.mu.Lock()
	st := s.st
	first := s.firstSeq
	s.mu.Unlock()
	var appended, removed uint64
	var gone []uint64 // seqs deleted by this commit
	err := s.db.Update(func(tx *bolt.Tx) error {
		appended, removed, gone = 0, 0, gone[:0]
		data := tx.Bucket(bucketData)
		for _, r := range batch {
			if r.remove != nil {
				for _, seq := range r.remove {
					k := seqKey(seq)
					v := data.Get(k)
					if v == nil {
						gone = append(gone, seq) // forget a Delivered mark
						continue
					}
					if err := data.Delete(k); err != nil {
						return err
					}
					st.count--
					st.bytes -= 8 + uint64(len(v))
					removed++
					gone = append(gone, seq)
				}
				continue
			}
			v := encodeEntry(r.topic, r.payload)
			if err := data.Put(seqKey(st.nextSeq), v); err != nil {
				return err
			}
			st.nextSeq++
			st.count++
			st.bytes += 8 + uint64(len(v))
			appended++
		}
		if _, err := s.enforce(data, &st, &gone); err != nil {
			return err
		}
		if k, _ := data.Cursor().First(); k != nil {
			first = binary.BigEndian.Uint64(k)
		}
		return tx.Bucket(bucketMeta).Put(keyMeta, st.marshal())
	})
	if err == nil {
		s.mu.Lock()
		s.st = st
		s.firstSeq = first
		s.appended += appended
		s.removed += removed
		s.commits++
		for _, seq := range gone {
			delete(s.delivered, seq)
		}
		s.mu.Unlock()
		if appended > 0 {
			select {
			case s.notify <- struct{}{}:
			default:
			}
		}
	} else {
		err = fmt.Errorf("spool commit: %w", err)
		s.log.Error("spool commit failed", "err", err, "ops", len(batch))
	}
	for _, r := range batch {
		r.done <- err
	}
}

// enforce deletes the oldest entries until the bounds hold and counts those
// that were not delivered as dropped. Deleted seqs are added to gone.
func (s *Spool) enforce(data *bolt.Bucket, st *state, gone *[]uint64) (uint64, error) {
	var dropped uint64
	c := data.Cursor()
	for st.count > uint64(s.opts.MaxEntries) || st.bytes > uint64(s.opts.MaxBytes) {
		k, v := c.First()
		if k == nil {
			// Accounting drifted from the data (should not happen): resync.
			st.count, st.bytes = 0, 0
			break
		}
		size := 8 + uint64(len(v))
		seq := binary.BigEndian.Uint64(k)
		if err := c.Delete(); err != nil {
			return dropped, err
		}
		st.count--
		st.bytes -= size
		if gone != nil {
			*gone = append(*gone, seq)
		}
		s.mu.Lock()
		_, done := s.delivered[seq]
		s.mu.Unlock()
		if !done {
			st.dropped++
			dropped++
		}
	}
	return dropped, nil
}
